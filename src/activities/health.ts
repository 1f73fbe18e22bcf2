import { deliveriesStore } from '../db/stores/deliveries';
import { organizationsStore } from '../db/stores/organizations';
import { webhooksStore } from '../db/stores/webhooks';
import { DeliveryWorkflows } from '../dispatch/delivery-workflows';
import { disabledWebhookEmail, failureWarningEmail } from '../mail/templates';
import type { ActivityDeps } from './deps';

export function createHealthActivities({ db, temporal, mailer, logger, config }: ActivityDeps) {
  const workflows = new DeliveryWorkflows(temporal, config.taskQueue);
  return {
    /**
     * Disables the webhook (once) and stops its waiting deliveries so none attempts again. Keeps when the streak
     * began (`failingSince`, absent in histories from before it was passed): re-enabling offers to recover from then.
     */
    async disableWebhook({ webhookId, reason, failingSince }: { webhookId: string; reason: string; failingSince?: string | null }): Promise<boolean> {
      // One transaction: the guarded UPDATE holds the row lock until the streak start is written with it, so an
      // edit or a re-enable (which take the same lock) sees both or neither.
      const row = await db.transaction(async (trx) => {
        const disabled = await webhooksStore.transition(trx, webhookId, ['pending', 'active', 'inactive'], 'disabled', reason);
        if (disabled && failingSince) await trx('webhooks').where({ id: webhookId }).update({ failing_since: new Date(failingSince) });
        return disabled;
      });
      await workflows.stop(await deliveriesStore.listOpenIdsForWebhook(db, webhookId), 'Webhook disabled');
      if (row) logger.warn({ webhookId, reason }, 'webhook disabled by the health rule');
      return Boolean(row);
    },

    /**
     * Warns the owner once per failing streak (known by when it began): the mark makes a retried activity a no-op.
     * Not for a webhook already disabled or deleted: the disable email says it all.
     */
    async sendFailureWarningEmail(input: { webhookId: string; failingSince: string; lastError: string | null; disableAfterDay: string }): Promise<boolean> {
      const webhook = await webhooksStore.getAny(db, input.webhookId);
      if (!webhook || webhook.deleted_at || webhook.status === 'disabled' || webhook.warning_email_sent_for === input.failingSince) return false;
      const organization = await organizationsStore.get(db, webhook.organization_id);
      if (!organization) return false;
      await mailer.send(failureWarningEmail({ to: organization.notification_email, webhook, ...input, apiBaseUrl: config.publicBaseUrl }));
      await db('webhooks').where({ id: input.webhookId }).update({ warning_email_sent_for: input.failingSince });
      return true;
    },

    /** Emails the owner once per disable: the sent mark makes a retried activity a no-op. */
    async sendDisabledEmail({ webhookId, failingSince, lastError }: { webhookId: string; failingSince: string | null; lastError: string | null }): Promise<boolean> {
      const webhook = await webhooksStore.getAny(db, webhookId);
      if (!webhook || webhook.status !== 'disabled' || webhook.disabled_email_sent_at) return false;
      const organization = await organizationsStore.get(db, webhook.organization_id);
      if (!organization) return false;
      await mailer.send(
        disabledWebhookEmail({ to: organization.notification_email, webhook, failingSince, lastError, apiBaseUrl: config.publicBaseUrl }),
      );
      await db('webhooks').where({ id: webhookId }).update({ disabled_email_sent_at: db.fn.now() });
      return true;
    },
  };
}

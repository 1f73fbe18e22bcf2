import { deliveriesStore } from '../db/stores/deliveries';
import { organizationsStore } from '../db/stores/organizations';
import { webhooksStore } from '../db/stores/webhooks';
import { DeliveryWorkflows } from '../services/delivery-workflows';
import { disabledWebhookEmail } from '../mail/templates';
import type { ActivityDeps } from '.';

export function createHealthActivities({ db, temporal, mailer, logger, config }: ActivityDeps) {
  const workflows = new DeliveryWorkflows(temporal, config.taskQueue);
  return {
    /** Disables the webhook (once) and stops its waiting deliveries so none attempts again. */
    async disableWebhook({ webhookId, reason }: { webhookId: string; reason: string }): Promise<boolean> {
      const row = await webhooksStore.transition(db, webhookId, ['pending', 'active', 'inactive'], 'disabled', reason);
      await workflows.stop(await deliveriesStore.listOpenIdsForWebhook(db, webhookId), 'Webhook disabled');
      if (row) logger.warn({ webhookId, reason }, 'webhook disabled by the health rule');
      return Boolean(row);
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

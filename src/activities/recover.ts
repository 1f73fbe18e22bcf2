import { heartbeat } from '@temporalio/activity';
import { isDeliverable, webhooksStore } from '../db/stores/webhooks';
import { recoveriesStore, RecoverableStatus, RecoveryCursor } from '../db/stores/recoveries';
import { vaultIdOf } from '../domain/events';
import { DeliveryWorkflows } from '../dispatch/delivery-workflows';
import { fairnessWeightsFor } from '../dispatch/fairness-weights';
import type { ActivityDeps } from './deps';

export interface RecoverBatchInput {
  recoveryId: string;
  webhookId: string;
  since: string;
  until: string;
  statuses: RecoverableStatus[];
  after: RecoveryCursor | null;
  limit: number;
}

export interface RecoverBatchResult {
  /** Deliveries this recovery has re-delivered so far, all batches together. */
  started: number;
  cursor: RecoveryCursor | null;
  /** Nothing left to recover, or the webhook can no longer receive (disabled or deleted meanwhile). */
  done: boolean;
}

export function createRecoverActivities({ db, temporal, logger, config }: ActivityDeps) {
  const workflows = new DeliveryWorkflows(temporal, config.taskQueue, { weights: fairnessWeightsFor(db) });
  return {
    /**
     * Re-delivers the next page of recoverable deliveries, oldest first. Each one is moved to `pending` and
     * counted in one transaction once Temporal has it, so a retried batch skips what it already did.
     */
    async recoverBatch(input: RecoverBatchInput): Promise<RecoverBatchResult> {
      const webhook = await webhooksStore.getAny(db, input.webhookId);
      const recovery = await recoveriesStore.getAny(db, input.recoveryId);
      if (!recovery) throw new Error(`Recovery ${input.recoveryId} not found`);
      if (!webhook || webhook.deleted_at || !isDeliverable(webhook)) {
        logger.warn({ webhookId: input.webhookId, recoveryId: input.recoveryId }, 'recovery stopped: the webhook can no longer receive');
        return { started: recovery.started, cursor: input.after, done: true };
      }
      const filter = { webhookId: input.webhookId, since: new Date(input.since), until: new Date(input.until), statuses: input.statuses };
      const rows = await recoveriesStore.nextRecoverable(db, filter, input.after, input.limit);
      let started = recovery.started;
      for (const row of rows) {
        await workflows.redeliver(
          { deliveryId: row.id, organizationId: webhook.organization_id, webhookId: row.webhook_id, eventType: row.event_type, vaultId: vaultIdOf(row.data) },
          `${row.event_type} ${row.event_id} → webhook ${row.webhook_id} (recovered)`,
          `recovery ${input.recoveryId}`,
          'recovery',
        );
        started = await db.transaction(async (trx) => {
          // Back to pending unless the new run already recorded an attempt (then the row says what it did).
          await trx('deliveries')
            .where({ id: row.id, status: row.status, attempt_count: row.attempt_count })
            .update({ status: 'pending', completed_at: null, next_attempt_at: null, paced_until: null, updated_at: trx.fn.now() });
          await recoveriesStore.addStarted(trx, input.recoveryId, 1);
          return (await recoveriesStore.getAny(trx, input.recoveryId))!.started;
        });
        heartbeat(started);
      }
      const last = rows[rows.length - 1];
      return { started, cursor: last ? { createdAt: last.created_at_exact, id: last.id } : input.after, done: rows.length < input.limit };
    },

    async completeRecovery({ recoveryId }: { recoveryId: string }): Promise<void> {
      await recoveriesStore.complete(db, recoveryId);
    },
  };
}

import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { RECOVERABLE_STATUSES, RecoverableStatus, recoveriesStore, RecoveryRow } from '../db/stores/recoveries';
import { webhooksStore } from '../db/stores/webhooks';
import { newId } from '../domain/ids';
import { parseIsoTime } from '../domain/iso-time';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { RecoverWorkflowInput, recoverWorkflowId, searchAttributes, WorkflowSignatures, workflowTypes } from '../workflows/messages';
import { deliveryPriority } from '../dispatch/delivery-priority';
import { fairnessWeightsFor } from '../dispatch/fairness-weights';

const DAY_MS = 86_400_000;

export interface RecoveryServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  temporalUi: { baseUrl: string; namespace: string };
  /** The Delivery Log's retention: a recovery cannot reach further back. Unset: no bound. */
  logRetentionDays?: number;
}

export interface RecoveryView {
  row: RecoveryRow;
  temporalUrl: string;
}

/** Distinct statuses in their canonical order; none given means both. */
export function normalizeStatuses(statuses: RecoverableStatus[] | undefined): RecoverableStatus[] {
  return statuses?.length ? RECOVERABLE_STATUSES.filter((s) => statuses.includes(s)) : [...RECOVERABLE_STATUSES];
}

/** The owner's Recover: counts and re-delivers a webhook's failed and skipped deliveries since a time. */
export class RecoveryService {
  constructor(private readonly deps: RecoveryServiceDeps) {}

  temporalUrl(row: Pick<RecoveryRow, 'webhook_id' | 'id'>): string {
    const { baseUrl, namespace } = this.deps.temporalUi;
    return `${baseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(recoverWorkflowId(row.webhook_id, row.id))}`;
  }

  /** `since` must be in the past and, when the log has a retention, within it. */
  private checkSince(since: string, field: string, now: Date): Date {
    const at = parseIsoTime(since);
    if (at.getTime() > now.getTime()) throw new ValidationError([{ field, message: 'must not be in the future' }]);
    const days = this.deps.logRetentionDays;
    if (days !== undefined && at.getTime() < now.getTime() - days * DAY_MS) {
      throw new ValidationError([{ field, message: `must be within the Delivery Log's retention of ${days} days` }]);
    }
    return at;
  }

  async countRecoverable(organizationId: string, webhookId: string, since: string, statuses: RecoverableStatus[] | undefined, field = 'query.since') {
    const now = new Date();
    const at = this.checkSince(since, field, now);
    if (!(await webhooksStore.get(this.deps.db, organizationId, webhookId))) throw new NotFoundError('Webhook');
    const wanted = normalizeStatuses(statuses);
    const count = await recoveriesStore.countRecoverable(this.deps.db, { webhookId, since: at, until: now, statuses: wanted });
    return { count, since: at.toISOString(), statuses: wanted };
  }

  /**
   * Starts a recovery of an active or pending webhook (a disabled one is re-enabled first). One at a time per
   * webhook: a second would re-deliver the same deliveries again.
   */
  async start(
    organizationId: string,
    webhookId: string,
    input: { since: string; statuses?: RecoverableStatus[] },
    paging: Pick<RecoverWorkflowInput, 'batchSize' | 'maxBatchesPerRun'> = {},
  ): Promise<RecoveryView> {
    const now = new Date();
    const since = this.checkSince(input.since, 'body.since', now);
    const statuses = normalizeStatuses(input.statuses);
    const { db } = this.deps;
    const row = await db.transaction(async (trx) => {
      const webhook = await webhooksStore.getForUpdate(trx, organizationId, webhookId);
      if (!webhook) throw new NotFoundError('Webhook');
      if (webhook.status !== 'active' && webhook.status !== 'pending') {
        throw new ConflictError('status', `the webhook is ${webhook.status}; ${webhook.status === 'disabled' ? 're-enable it' : 'wait until it is active'} before recovering`);
      }
      const running = await recoveriesStore.findRunning(trx, webhookId);
      if (running) throw new ConflictError('recovery', `recovery ${running.id} of this webhook is still running`);
      const filter = { webhookId, since, until: now, statuses };
      const total = await recoveriesStore.countRecoverable(trx, filter);
      return recoveriesStore.insert(trx, { id: newId('rcv'), organization_id: organizationId, webhook_id: webhookId, since, until: now, statuses, total });
    });
    try {
      await this.deps.temporal.workflow.start<WorkflowSignatures['recoverWebhookWorkflow']>(workflowTypes.recoverWebhookWorkflow, {
        workflowId: recoverWorkflowId(webhookId, row.id),
        taskQueue: this.deps.taskQueue,
        args: [{ recoveryId: row.id, webhookId, since: since.toISOString(), until: now.toISOString(), statuses, total: row.total, ...paging }],
        // Its batches (activities) inherit this: the recovery's own fairness key, so live events are not held back.
        priority: deliveryPriority(organizationId, 'recovery', await fairnessWeightsFor(db).of(organizationId)),
        typedSearchAttributes: [{ key: searchAttributes.webhookId, value: webhookId }],
        staticSummary: `Recovery of webhook ${webhookId}: re-delivers ${row.total} ${statuses.join('/')} deliveries since ${since.toISOString()}, oldest first`,
      });
    } catch (err) {
      // Nothing half-written: without its workflow the recovery never happened.
      await recoveriesStore.remove(db, row.id);
      throw err;
    }
    return { row, temporalUrl: this.temporalUrl(row) };
  }

  async get(organizationId: string, webhookId: string, recoveryId: string): Promise<RecoveryView> {
    if (!(await webhooksStore.get(this.deps.db, organizationId, webhookId))) throw new NotFoundError('Webhook');
    const row = await recoveriesStore.get(this.deps.db, organizationId, webhookId, recoveryId);
    if (!row) throw new NotFoundError('Recovery');
    return { row, temporalUrl: this.temporalUrl(row) };
  }
}

import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { deliveriesStore, DeliveryFilter, DeliveryRow } from '../db/stores/deliveries';
import { deliveryAttemptsStore, DeliveryAttemptRow } from '../db/stores/delivery-attempts';
import { eventsStore } from '../db/stores/events';
import { webhooksStore } from '../db/stores/webhooks';
import { vaultIdOf, type EventPayload } from '../domain/events';
import { ConflictError, NotFoundError } from '../errors';
import { deliveryWorkflowId } from '../workflows/messages';
import { DeliveryWorkflows } from '../dispatch/delivery-workflows';
import { toLoggedEventPayload } from '../domain/event-payload';
import type { KeysetPosition } from '../db/keyset';
import { fairnessWeightsFor } from '../dispatch/fairness-weights';

export interface DeliveryDetail {
  delivery: DeliveryRow;
  payload: EventPayload;
  attempts: DeliveryAttemptRow[];
}

export class DeliveryService {
  private readonly workflows: DeliveryWorkflows;

  constructor(
    private readonly db: Knex,
    private readonly temporal: Client,
    taskQueue: string,
    private readonly temporalUi: { baseUrl: string; namespace: string },
  ) {
    this.workflows = new DeliveryWorkflows(temporal, taskQueue, { weights: fairnessWeightsFor(db) });
  }

  /** The delivery workflow's page in the Temporal Web UI. */
  temporalUrl(deliveryId: string): string {
    return `${this.temporalUi.baseUrl}/namespaces/${encodeURIComponent(this.temporalUi.namespace)}/workflows/${encodeURIComponent(deliveryWorkflowId(deliveryId))}`;
  }

  async listForWebhook(organizationId: string, webhookId: string, filter: DeliveryFilter, limit: number, after?: KeysetPosition) {
    if (!(await webhooksStore.get(this.db, organizationId, webhookId))) throw new NotFoundError('Webhook');
    return deliveriesStore.listForWebhook(this.db, webhookId, filter, limit, after);
  }

  async get(organizationId: string, id: string): Promise<DeliveryDetail> {
    const delivery = await deliveriesStore.get(this.db, organizationId, id);
    if (!delivery || !(await webhooksStore.get(this.db, organizationId, delivery.webhook_id))) throw new NotFoundError('Delivery');
    const [event, attempts] = await Promise.all([eventsStore.get(this.db, organizationId, delivery.event_id), deliveryAttemptsStore.listForDelivery(this.db, id)]);
    return { delivery, payload: toLoggedEventPayload(event!), attempts };
  }

  /**
   * Re-delivers through the delivery's own workflow id: a waiting delivery attempts at once; a
   * finished one starts a new run that re-sends the stored event, its attempts joining the same log.
   */
  async redeliver(organizationId: string, id: string, requestedBy: string): Promise<DeliveryRow> {
    const { delivery, payload } = await this.get(organizationId, id);
    const webhook = await webhooksStore.get(this.db, organizationId, delivery.webhook_id);
    if (!webhook) throw new NotFoundError('Delivery');
    if (webhook.status === 'disabled') throw new ConflictError('webhook', 'the webhook is disabled; re-enable it before redelivering');
    // A skipped delivery never had a run: like a finished one, it gets a new run and goes back to pending.
    const finished = ['succeeded', 'failed', 'cancelled', 'skipped'].includes(delivery.status);
    // The log says finished a moment before the run closes: a signal to that closing run would be lost
    // (and the delivery left pending), so let it close first; signalWithStart then starts a new run.
    if (finished) await this.runClosed(id);
    const vaultId = vaultIdOf(payload.data);
    await this.workflows.redeliver(
      { deliveryId: id, organizationId, webhookId: delivery.webhook_id, eventType: delivery.event_type, vaultId },
      `${delivery.event_type} ${delivery.event_id} → webhook ${delivery.webhook_id} (redelivered)`,
      requestedBy,
    );
    if (!finished) return delivery;
    // Back to pending only once Temporal has the new run (a failed start leaves the log as it was), and only
    // if that run has not already recorded an attempt of its own.
    const [row] = await this.db('deliveries')
      .where({ id, attempt_count: delivery.attempt_count })
      .update({ status: 'pending', completed_at: null, next_attempt_at: null, paced_until: null, updated_at: this.db.fn.now() })
      .returning('*');
    return row ?? (await deliveriesStore.get(this.db, organizationId, id))!;
  }

  /** Waits (a few seconds at most) for the delivery's current run to close, whatever its outcome. */
  private async runClosed(deliveryId: string): Promise<void> {
    const result = this.temporal.workflow.getHandle(deliveryWorkflowId(deliveryId)).result().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([result, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
  }
}

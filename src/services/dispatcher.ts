import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Knex } from 'knex';
import { eventsStore } from '../db/stores/events';
import { vaultIdOf } from '../domain/events';
import type { Logger } from '../logger';
import { fanoutWorkflow } from '../workflows/fanout';
import { fanoutWorkflowId, searchAttributes } from '../workflows/messages';
import { DeliveryWorkflows } from './delivery-workflows';

/** Starts every delivery workflow of an event. Idempotent (workflow ids), so safe to repeat. */
export async function startEventDeliveries(db: Knex, workflows: DeliveryWorkflows, organizationId: string, eventId: string): Promise<number> {
  const rows: { id: string; webhook_id: string; event_type: string; data: Record<string, unknown> }[] = await db('deliveries as d')
    .join('events as e', (j) => j.on('e.organization_id', 'd.organization_id').andOn('e.id', 'd.event_id'))
    .where({ 'd.organization_id': organizationId, 'd.event_id': eventId })
    .whereNot('d.status', 'skipped') // kept for a recovery, not sent
    .select('d.id', 'd.webhook_id', 'd.event_type', 'e.data');
  // Bounded concurrency: a large fan-out should not open thousands of calls at once.
  for (let i = 0; i < rows.length; i += 50) {
    await Promise.all(
      rows.slice(i, i + 50).map((r) =>
        workflows.start(
          { deliveryId: r.id, webhookId: r.webhook_id, eventType: r.event_type, vaultId: vaultIdOf(r.data) },
          `${r.event_type} ${eventId} → webhook ${r.webhook_id}`,
        ),
      ),
    );
  }
  await eventsStore.markDispatched(db, organizationId, eventId);
  return rows.length;
}

/**
 * Hands stored events to Temporal. The API calls it right after its transaction commits; the
 * worker's sweep calls it again for any event a crash left undispatched, so none is lost.
 */
export class EventDispatcher {
  constructor(
    private readonly db: Knex,
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly logger: Logger,
  ) {}

  private readonly workflows = () => new DeliveryWorkflows(this.client, this.taskQueue);

  /** One workflow start, whatever the fan-out: the fan-out workflow starts the deliveries. */
  async dispatchViaFanout(organizationId: string, eventId: string, eventType: string): Promise<void> {
    try {
      await this.client.workflow.start(fanoutWorkflow, {
        workflowId: fanoutWorkflowId(organizationId, eventId),
        taskQueue: this.taskQueue,
        args: [{ organizationId, eventId }],
        typedSearchAttributes: [{ key: searchAttributes.eventType, value: eventType }],
        staticSummary: `Fan-out of ${eventType} ${eventId}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await eventsStore.markDispatched(this.db, organizationId, eventId);
  }

  /** Starts the deliveries directly: for pings (one delivery) and the sweep. */
  async dispatchDirect(organizationId: string, eventId: string): Promise<number> {
    return startEventDeliveries(this.db, this.workflows(), organizationId, eventId);
  }

  /** Tries now; on failure the event stays undispatched in PostgreSQL and the sweep retries it. */
  async dispatchSoon(fn: () => Promise<unknown>, context: Record<string, unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.logger.error({ ...context, err: (err as Error).message }, 'dispatch to Temporal failed; the sweep will retry');
      return false;
    }
  }

  /** Re-dispatches events that were stored but never reached Temporal. */
  async sweep(olderThanMs = 30_000, limit = 500): Promise<number> {
    const events = await eventsStore.listUndispatched(this.db, new Date(Date.now() - olderThanMs), limit);
    for (const e of events) await this.dispatchDirect(e.organization_id, e.id);
    return events.length;
  }
}

import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Knex } from 'knex';
import { eventsStore } from '../db/stores/events';
import { vaultIdOf } from '../domain/events';
import type { Logger } from '../logger';
import { fanoutWorkflow } from '../workflows/fanout';
import { fanoutWorkflowId, searchAttributes } from '../workflows/messages';
import { DeliveryWorkflows, StartOptions } from './delivery-workflows';

/** Which part failed when a dispatch did not go through: the log names it, since the fixes differ. */
export class DispatchError extends Error {
  constructor(
    readonly component: 'PostgreSQL' | 'Temporal',
    readonly cause: unknown,
  ) {
    super(`${component}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

async function on<T>(component: DispatchError['component'], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof DispatchError ? err : new DispatchError(component, err);
  }
}

/** Starts every delivery workflow of an event. Idempotent (workflow ids, reject-duplicate), so safe to repeat. */
export async function startEventDeliveries(db: Knex, workflows: DeliveryWorkflows, organizationId: string, eventId: string): Promise<number> {
  const rows: { id: string; webhook_id: string; event_type: string; data: Record<string, unknown> }[] = await on('PostgreSQL', () =>
    db('deliveries as d')
      .join('events as e', (j) => j.on('e.organization_id', 'd.organization_id').andOn('e.id', 'd.event_id'))
      .where({ 'd.organization_id': organizationId, 'd.event_id': eventId })
      .select('d.id', 'd.webhook_id', 'd.event_type', 'e.data'),
  );
  // Bounded concurrency: a large fan-out should not open thousands of calls at once.
  for (let i = 0; i < rows.length; i += 50) {
    await on('Temporal', () =>
      Promise.all(
        rows.slice(i, i + 50).map((r) =>
          workflows.start(
            { deliveryId: r.id, webhookId: r.webhook_id, eventType: r.event_type, vaultId: vaultIdOf(r.data) },
            `${r.event_type} ${eventId} → webhook ${r.webhook_id}`,
          ),
        ),
      ),
    );
  }
  await on('PostgreSQL', () => eventsStore.markDispatched(db, organizationId, eventId));
  return rows.length;
}

/** How often the sweep looks for events a crash or an outage left undispatched, and how old they must be. */
export const SWEEP_INTERVAL_MS = 5_000;

/**
 * Hands stored events to Temporal. The API calls it right after its transaction commits; the
 * worker's sweep calls it again for any event a crash left undispatched, so none is lost.
 */
export class EventDispatcher {
  private readonly workflows: DeliveryWorkflows;

  constructor(
    private readonly db: Knex,
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly logger: Logger,
    private readonly startOptions: StartOptions = {},
  ) {
    this.workflows = new DeliveryWorkflows(client, taskQueue, startOptions);
  }

  /** One workflow start, whatever the fan-out: the fan-out workflow starts the deliveries. */
  async dispatchViaFanout(organizationId: string, eventId: string, eventType: string): Promise<void> {
    const start = () =>
      this.client.workflow.start(fanoutWorkflow, {
        workflowId: fanoutWorkflowId(organizationId, eventId),
        taskQueue: this.taskQueue,
        args: [{ organizationId, eventId }],
        typedSearchAttributes: [{ key: searchAttributes.eventType, value: eventType }],
        staticSummary: `Fan-out of ${eventType} ${eventId}`,
      });
    await on('Temporal', async () => {
      try {
        const { deadlineMs } = this.startOptions;
        await (deadlineMs ? this.client.connection.withDeadline(Date.now() + deadlineMs, start) : start());
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    });
    await on('PostgreSQL', () => eventsStore.markDispatched(this.db, organizationId, eventId));
  }

  /** Starts the deliveries directly: for small fan-outs, pings and the sweep. */
  async dispatchDirect(organizationId: string, eventId: string): Promise<number> {
    return startEventDeliveries(this.db, this.workflows, organizationId, eventId);
  }

  /** Tries now; on failure the event stays undispatched in PostgreSQL and the sweep retries it. */
  async dispatchSoon(fn: () => Promise<unknown>, context: Record<string, unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      const component = err instanceof DispatchError ? err.component : 'Temporal or PostgreSQL';
      const message = err instanceof DispatchError ? (err.cause as Error)?.message : (err as Error).message;
      this.logger.error({ ...context, component, err: message }, `dispatch failed: ${component} unavailable; the sweep will retry`);
      return false;
    }
  }

  /** Re-dispatches events that were stored but never reached Temporal. */
  async sweep(olderThanMs = SWEEP_INTERVAL_MS, limit = 500): Promise<number> {
    const events = await eventsStore.listUndispatched(this.db, new Date(Date.now() - olderThanMs), limit);
    // A few at a time: after an outage the backlog drains quickly without flooding Temporal.
    for (let i = 0; i < events.length; i += 8) {
      await Promise.all(events.slice(i, i + 8).map((e) => this.dispatchDirect(e.organization_id, e.id)));
    }
    return events.length;
  }
}

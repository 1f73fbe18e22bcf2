import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { eventsStore } from '../db/stores/events';
import { vaultIdOf } from '../domain/events';
import type { Logger } from '../logger';
import { fanoutWorkflow } from '../workflows/fanout';
import { fanoutWorkflowId, searchAttributes } from '../workflows/messages';
import { DeliveryWorkflows, StartOptions } from './delivery-workflows';
import { startOnce } from './start-deadline';
import { deliveryPriority, kindOfEvent } from './delivery-priority';
import { fairnessWeightsFor } from './fairness-weights';

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

export interface DeliveryToStart {
  id: string;
  webhook_id: string;
  event_type: string;
}

/** Starts the delivery workflows of one event, at most 50 calls at a time. Idempotent (workflow ids, reject-duplicate). */
async function startDeliveries(workflows: DeliveryWorkflows, organizationId: string, eventId: string, vaultId: string | undefined, rows: DeliveryToStart[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 50) {
    await on('Temporal', () =>
      Promise.all(
        rows.slice(i, i + 50).map((r) =>
          workflows.start({ deliveryId: r.id, organizationId, webhookId: r.webhook_id, eventType: r.event_type, vaultId }, `${r.event_type} ${eventId} → webhook ${r.webhook_id}`),
        ),
      ),
    );
  }
}

/** Starts every delivery workflow of a stored event, then marks it dispatched. Safe to repeat. */
export async function startEventDeliveries(db: Knex, workflows: DeliveryWorkflows, organizationId: string, eventId: string): Promise<number> {
  const rows: (DeliveryToStart & { data: Record<string, unknown> })[] = await on('PostgreSQL', () =>
    db('deliveries as d')
      .join('events as e', (j) => j.on('e.organization_id', 'd.organization_id').andOn('e.id', 'd.event_id'))
      .where({ 'd.organization_id': organizationId, 'd.event_id': eventId })
      .whereNot('d.status', 'skipped') // kept for a recovery, not sent
      .select('d.id', 'd.webhook_id', 'd.event_type', 'e.data'),
  );
  await startDeliveries(workflows, organizationId, eventId, rows.length ? vaultIdOf(rows[0].data) : undefined, rows);
  await on('PostgreSQL', () => eventsStore.markDispatched(db, organizationId, eventId));
  return rows.length;
}

/** How long a dispatched mark waits for others to share its update (a burst's events, one statement). */
const DISPATCH_MARK_DELAY_MS = 50;

/**
 * Dispatched marks, written in batches off the request path: a mark only spares the sweep a re-dispatch, which
 * is a no-op anyway (reject-duplicate starts), so the 202 does not wait for it and a burst shares its updates.
 */
class DispatchMarks {
  private pending: { organizationId: string; id: string }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
  ) {}

  add(organizationId: string, id: string): void {
    this.pending.push({ organizationId, id });
    this.flushing ??= new Promise<void>((r) => setTimeout(r, DISPATCH_MARK_DELAY_MS)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, 500);
      await eventsStore.markManyDispatched(this.db, batch).catch((err) => this.logger.warn({ err: err.message, events: batch.length }, 'dispatch marks not written; the sweep will look at these events again'));
    }
    this.flushing = null;
  }
}

/** How often the sweep looks for events a crash or an outage left undispatched, and how old they must be. */
export const SWEEP_INTERVAL_MS = 5_000;

/**
 * Hands stored events to Temporal. The API calls it right after its transaction commits; the
 * worker's sweep calls it again for any event a crash left undispatched, so none is lost.
 */
export class EventDispatcher {
  private readonly workflows: DeliveryWorkflows;
  readonly marks: DispatchMarks;

  constructor(
    private readonly db: Knex,
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly logger: Logger,
    private readonly startOptions: StartOptions = {},
  ) {
    this.workflows = new DeliveryWorkflows(client, taskQueue, { ...startOptions, weights: fairnessWeightsFor(db) });
    this.marks = new DispatchMarks(db, logger);
  }

  /** The API's path for a new event: its delivery rows are known, so no query before the starts. */
  async dispatchNew(organizationId: string, eventId: string, vaultId: string | undefined, rows: DeliveryToStart[]): Promise<void> {
    await startDeliveries(this.workflows, organizationId, eventId, vaultId, rows);
    this.marks.add(organizationId, eventId);
  }

  /** One workflow start, whatever the fan-out: the fan-out workflow starts the deliveries. */
  async dispatchViaFanout(organizationId: string, eventId: string, eventType: string): Promise<void> {
    // The fan-out's activity, and so its starts' place in the queue, inherit this priority.
    const priority = deliveryPriority(organizationId, kindOfEvent(eventType), await fairnessWeightsFor(this.db).of(organizationId));
    const start = () =>
      this.client.workflow.start(fanoutWorkflow, {
        workflowId: fanoutWorkflowId(organizationId, eventId),
        taskQueue: this.taskQueue,
        args: [{ organizationId, eventId }],
        priority,
        typedSearchAttributes: [{ key: searchAttributes.eventType, value: eventType }],
        staticSummary: `Fan-out of ${eventType} ${eventId}`,
      });
    await on('Temporal', () => startOnce(this.client, this.startOptions.deadlineMs, start));
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

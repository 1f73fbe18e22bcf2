import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Db } from '../db/knex';
import { eventsStore, OUTBOX_CHANNEL } from '../db/stores/events';
import { deliveriesStore } from '../db/stores/deliveries';
import { stalledDeliveries } from '../metrics';
import { within } from '../time-limit';
import { vaultIdOf } from '../domain/events';
import type { Logger } from '../logger';
import { DeliveryWorkflows, StartOptions } from './delivery-workflows';
import { fairnessWeightsFor } from './fairness-weights';
import type { WorkflowSlots } from './workflow-slots';
import type { Tracing } from '../tracing';

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
  organization_id: string;
  event_id: string;
  webhook_id: string;
  event_type: string;
  data: Record<string, unknown>;
  /** The ingest span's context (read only with tracing on). */
  traceparent?: string | null;
}

/** Told of each start: its delivery id and whether it went eager (its first task straight to this worker). */
export type OnStarted = (deliveryId: string, eager: boolean) => void;

/**
 * Starts delivery workflows, at most 50 calls at a time. Idempotent (workflow ids, reject-duplicate). With tracing
 * on, each start runs in its event's ingest trace: the client interceptor's start span is a child of the ingest
 * span, and the workflow continues it from its headers.
 */
async function startDeliveries(workflows: DeliveryWorkflows, rows: DeliveryToStart[], onStarted?: OnStarted, tracing?: Tracing): Promise<void> {
  for (let i = 0; i < rows.length; i += 50) {
    await on('Temporal', () =>
      Promise.all(
        rows.slice(i, i + 50).map(async (r) => {
          const input = { deliveryId: r.id, organizationId: r.organization_id, webhookId: r.webhook_id, eventType: r.event_type, vaultId: vaultIdOf(r.data) };
          const start = () => workflows.start(input, `${r.event_type} ${r.event_id} → webhook ${r.webhook_id}`);
          const { eager } = await (tracing ? tracing.withTraceparent(r.traceparent, start) : start());
          onStarted?.(r.id, eager);
        }),
      ),
    );
  }
}

/** The deliveries of these events that are to be sent (a skipped one is kept for a recovery, not sent), in one query. */
function deliveriesOf(db: Db, events: { organization_id: string; id: string }[], traced = false): Promise<DeliveryToStart[]> {
  return on('PostgreSQL', () =>
    db('deliveries as d')
      .join('events as e', (j) => j.on('e.organization_id', 'd.organization_id').andOn('e.id', 'd.event_id'))
      .whereIn(['d.organization_id', 'd.event_id'], events.map((e) => [e.organization_id, e.id]))
      .whereNot('d.status', 'skipped')
      .select('d.id', 'd.organization_id', 'd.event_id', 'd.webhook_id', 'd.event_type', 'e.data', ...(traced ? ['e.traceparent'] : [])),
  );
}

/** Starts every delivery workflow of a stored event, then marks it dispatched. Safe to repeat. */
export async function startEventDeliveries(db: Db, workflows: DeliveryWorkflows, organizationId: string, eventId: string, onStarted?: OnStarted): Promise<number> {
  const rows = await deliveriesOf(db, [{ organization_id: organizationId, id: eventId }]);
  await startDeliveries(workflows, rows, onStarted);
  await on('PostgreSQL', () => eventsStore.markDispatched(db, organizationId, eventId));
  return rows.length;
}


/** Events claimed per transaction at most: the transaction holds their row locks while their starts go out. */
const CLAIM_MAX_EVENTS = 20;
/** How fast an organization's recent service is forgotten (half-life): what "lately" means for the claim order. */
const RECENT_SERVICE_HALF_LIFE_MS = 2_000;

/**
 * Each organization's recently dispatched events, decaying with a half-life: the claim orders organizations by it
 * (with their weights), so one that was just served yields to one that was not.
 */
export class RecentService {
  private readonly served = new Map<string, { count: number; at: number }>();

  constructor(private readonly halfLifeMs = RECENT_SERVICE_HALF_LIFE_MS) {}

  add(organizationId: string, events: number, now = Date.now()): void {
    this.served.set(organizationId, { count: this.of(organizationId, now) + events, at: now });
  }

  of(organizationId: string, now = Date.now()): number {
    const s = this.served.get(organizationId);
    return s ? s.count * 0.5 ** ((now - s.at) / this.halfLifeMs) : 0;
  }

  /** Those still worth a turn (≥ 0.05 of an event), for the claim query; the rest are forgotten. */
  snapshot(now = Date.now()): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.served.keys()) {
      const count = this.of(id, now);
      if (count >= 0.05) out[id] = Math.round(count * 100) / 100;
      else this.served.delete(id);
    }
    return out;
  }
}

/** The longest prefix of `events` whose deliveries fit in `room` free slots (at least one event, so none is stuck). */
export function fitting<T extends { delivery_count: number }>(events: T[], room: number): T[] {
  let used = 0;
  let n = 0;
  while (n < events.length && (n === 0 || used + events[n].delivery_count <= room)) used += events[n++].delivery_count;
  return events.slice(0, n);
}
/** When no notification comes: how often the outbox is looked at anyway (a lost notification, a crashed claim). */
export const OUTBOX_FALLBACK_MS = 1_000;
/** While the worker's slots are full: how soon to look again, unless an attempt ends first. */
const FULL_RETRY_MS = 50;

type Drained = 'idle' | 'full' | 'more';

/**
 * The transactional outbox, drained by the worker. Ingest commits an event with its deliveries and answers; it
 * never calls Temporal. Each worker claims undispatched events (`FOR UPDATE SKIP LOCKED`, so workers never claim the
 * same one; pings first, then each organization's oldest in turn), starts their delivery workflows on its own
 * connection — eagerly, as it takes only as many as it has free workflow-task slots — and marks them dispatched in
 * the same transaction. A crash before the commit leaves them undispatched for the next claim; a start repeated
 * after one is a no-op (reject-duplicate ids). Woken by LISTEN/NOTIFY, and by a timer as the fallback.
 */
export class OutboxDispatcher {
  private readonly workflows: DeliveryWorkflows;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private listener: pg.Client | null = null;
  private woken = false;
  private wakeUp: (() => void) | null = null;
  private readonly recent = new RecentService();
  /** How many deliveries the latest claim set out to start: those this worker holds back when Temporal refuses. */
  private claimedDeliveries = 0;

  constructor(
    private readonly o: {
      db: Knex;
      client: Client;
      taskQueue: string;
      logger: Logger;
      slots: WorkflowSlots;
      startOptions?: StartOptions;
      /** OpenTelemetry, when on: each start continues its event's ingest trace. */
      tracing?: Tracing;
    },
  ) {
    this.workflows = new DeliveryWorkflows(o.client, o.taskQueue, { ...o.startOptions, weights: fairnessWeightsFor(o.db) });
  }

  /** Listens for notifications and drains until stopped. */
  async start(): Promise<void> {
    this.o.slots.onRelease = this.wake;
    await this.listen();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  wake = (): void => {
    this.woken = true;
    this.wakeUp?.();
  };

  /** One claim: starts what it claimed and commits. */
  async drainOnce(): Promise<Drained> {
    const room = this.o.slots.room();
    if (room <= 0) return 'full';
    const candidates = await on('PostgreSQL', () => eventsStore.dispatchCandidates(this.o.db, Math.min(CLAIM_MAX_EVENTS, room), this.recent.snapshot()));
    if (!candidates.length) return 'idle';
    return this.o.db.transaction<Drained>(async (trx) => {
      const events = await on('PostgreSQL', () => eventsStore.lockForDispatch(trx, fitting(candidates, room)));
      // Another worker holds them, or has just dispatched them: look again shortly.
      if (!events.length) return 'full';
      for (const e of events) this.recent.add(e.organization_id, 1);
      const tracing = this.o.tracing;
      const deliveries = await deliveriesOf(trx, events, Boolean(tracing));
      this.claimedDeliveries = deliveries.length;
      await startDeliveries(this.workflows, deliveries, (id, eager) => this.o.slots.started(id, eager), tracing);
      await on('PostgreSQL', () => eventsStore.markManyDispatched(trx, events.map((e) => ({ organizationId: e.organization_id, id: e.id }))));
      return 'more';
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let drained: Drained;
      try {
        drained = await this.drainOnce();
        failures = 0;
        stalledDeliveries.setUndispatched(0);
      } catch (err) {
        failures++;
        const component = err instanceof DispatchError ? err.component : 'Temporal or PostgreSQL';
        const message = err instanceof DispatchError ? (err.cause as Error)?.message : (err as Error).message;
        this.o.logger.error({ component, err: message }, `dispatch failed: ${component} unavailable; the events stay in the outbox and are tried again`);
        if (component === 'Temporal' && failures >= 2) await this.markStalled();
        await this.idle(Math.min(30_000, 250 * 2 ** failures));
        continue;
      }
      if (drained === 'idle') await this.idle(OUTBOX_FALLBACK_MS);
      else if (drained === 'full') await this.idle(FULL_RETRY_MS);
    }
  }

  /**
   * Temporal has refused this worker's starts twice in a row: the gauge counts the deliveries of the events it claimed
   * (claims never overlap, so the sum over workers counts each once), and every delivery still waiting in the outbox
   * says why in the Delivery Log (their first attempt's record clears it). Best effort: the database answered the
   * claim a moment ago, but the mark must not hold the loop up.
   */
  private async markStalled(): Promise<void> {
    stalledDeliveries.setUndispatched(this.claimedDeliveries);
    try {
      await within(deliveriesStore.markUndispatchedStalled(this.o.db, 'temporal_unavailable'), 5_000, 'the stall mark');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'the deliveries waiting in the outbox could not be marked as stalled');
    }
  }

  /** Waits `ms`, or less if woken (a notification, an attempt that ended, stop). */
  private idle(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** A connection of its own for LISTEN; lost, it is re-made (the fallback timer covers the gap). */
  private async listen(): Promise<void> {
    if (this.stopping) return;
    const connection = this.o.db.client.config.connection as string | pg.ClientConfig;
    const listener = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : connection);
    listener.on('notification', this.wake);
    listener.on('error', (err) => {
      this.o.logger.warn({ err: err.message }, 'outbox listener lost; reconnecting (the outbox is still looked at every second)');
      listener.end().catch(() => undefined);
      if (this.listener === listener) {
        this.listener = null;
        setTimeout(() => void this.listen().catch(() => undefined), OUTBOX_FALLBACK_MS).unref();
      }
    });
    try {
      await listener.connect();
      await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (this.stopping) await listener.end();
      else this.listener = listener;
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'outbox listener not connected; retrying (the outbox is still looked at every second)');
      await listener.end().catch(() => undefined);
      setTimeout(() => void this.listen().catch(() => undefined), OUTBOX_FALLBACK_MS).unref();
    }
  }
}

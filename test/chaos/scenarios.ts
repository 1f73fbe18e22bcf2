/**
 * The chaos scenarios: SCENARIOS on the dev shape (issue 9), CLUSTER_SCENARIOS on the production shape of
 * `npm run cluster` (issue 19). Each injects its faults into a running load and returns the fault windows;
 * `runScenario` does the rest. `short` marks the ones `--short` runs (with `shortLoad`).
 */
import { failReceivers, killAndRestart, stopAndStart } from './faults';
import { stopWorkerWithStuckAttempts } from './stuck-stop';
import type { FaultContext, ScenarioSpec } from './scenario';
import { waitUntil } from './wait';

// Long enough for the outbox to retry its claims and a 1-minute activity timeout to show.
const SETTLE_MS = 180_000;

/**
 * Scenarios that take Temporal down keep ingesting through the outage at a rate that sends ≥ 100 tries while it
 * lasts: with fewer, the "p99 while down" rule would judge their maximum, and one stall of a busy host would fail it.
 * Same load in the short form. Temporal goes down once 20 events are accepted.
 */
const TEMPORAL_OUTAGE_LOAD = { events: 150, clients: 8, ratePerSecond: 10 };
const ACCEPTED_BEFORE_OUTAGE = 20;

export type Scenario = ScenarioSpec & { short: boolean };

/** kill -9 Temporal mid-load and keep it down 10 s while clients ingest (ingest must not wait on it), then restart it. */
function temporalKill(title: string): Scenario {
  return {
    name: 'temporal-kill',
    title,
    short: true,
    load: TEMPORAL_OUTAGE_LOAD,
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(ACCEPTED_BEFORE_OUTAGE);
      return [await killAndRestart(ctx.stack.part('temporal'), 'temporal', { downMs: 10_000, log: ctx.log })];
    },
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill',
    title: 'kill -9 the worker mid-load, restart it',
    short: false,
    load: { events: 60, clients: 8, ratePerSecond: 5 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      return [await killAndRestart(ctx.stack.part('worker'), 'worker', { log: ctx.log })];
    },
  },
  {
    name: 'worker-kill-in-flight',
    title: 'kill -9 the worker with requests in flight (receivers hold each 2 s)',
    short: true,
    load: { events: 60, clients: 8, ratePerSecond: 5 },
    shortLoad: { events: 30 },
    holdMs: 2000,
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      await ctx.untilInFlight(15);
      const inFlight = ctx.receivers.reduce((sum, r) => sum + r.inFlight, 0);
      ctx.log(`    ${inFlight} requests in flight at the receivers`);
      return [await killAndRestart(ctx.stack.part('worker'), 'worker', { log: ctx.log })];
    },
  },
  {
    name: 'api-kill-twice',
    title: 'kill -9 the API during ingest, twice (clients retry with the same event id)',
    short: false,
    load: { events: 90, clients: 8, ratePerSecond: 5 },
    shortLoad: { events: 45 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 4));
      const first = await killAndRestart(ctx.stack.part('api'), 'api', { log: ctx.log });
      await ctx.untilAccepted(Math.floor((ctx.eventsPlanned * 2) / 3));
      return [first, await killAndRestart(ctx.stack.part('api'), 'api', { log: ctx.log })];
    },
  },
  {
    name: 'postgres-kill',
    title: 'kill -9 PostgreSQL mid-load, restart it on the same data 5 s later',
    short: true,
    load: { events: 60, clients: 8, ratePerSecond: 5 },
    shortLoad: { events: 30 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      // Down a few seconds, so requests that were mid-way through their dispatch fail on the database too.
      return [await killAndRestart(ctx.stack.part('postgres'), 'postgres', { downMs: 5000, log: ctx.log })];
    },
  },
  // In the short form too: it is the proof that `npm start`'s durable Temporal (WAL, synchronous=NORMAL) loses nothing.
  // Kept down 10 s (the dev server is back in under a second) so that ingest while it is down is measured.
  temporalKill('kill -9 Temporal mid-load, keep it down 10 s while clients ingest, restart it on the same database file'),
  {
    name: 'temporal-down-45s',
    title: 'kill -9 Temporal, keep it down 45 s while clients ingest, restart on the same file',
    short: false,
    // 3/s: ≥ 100 tries in the 45 s.
    load: { events: 180, clients: 8, ratePerSecond: 3 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(ACCEPTED_BEFORE_OUTAGE);
      return [await killAndRestart(ctx.stack.part('temporal'), 'temporal', { downMs: 45_000, log: ctx.log })];
    },
  },
  {
    name: 'receiver-fail-recover',
    title: 'receivers answer 500, then recover before the first retry (1 min)',
    short: false,
    load: { events: 45, clients: 6, ratePerSecond: 5 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      const recover = failReceivers(ctx.receivers);
      ctx.log('    receivers answer 500');
      // Enough 500s to matter, but recovered before the first of them is retried (1 min after it).
      const failedAnswers = () => ctx.receivers.reduce((n, r) => n + r.requests.filter((q) => q.status === 500).length, 0);
      await ctx.untilAccepted(Math.floor((ctx.eventsPlanned * 2) / 3));
      await waitUntil(() => failedAnswers() >= 30, '30 answers of 500', 40_000).catch(() => undefined);
      const window = recover();
      ctx.log(`    receivers recovered after ${((window.to! - window.from) / 1000).toFixed(1)} s and ${failedAnswers()} answers of 500`);
      return [window];
    },
  },
  {
    name: 'stop-with-stuck-attempt',
    title: 'SIGTERM the worker while its attempts are stuck (receivers never answer, PostgreSQL frozen): it exits within its deadline, then restarts',
    short: false,
    load: { events: 45, clients: 6, ratePerSecond: 5 },
    settleDeadlineMs: SETTLE_MS,
    inject: stopWorkerWithStuckAttempts,
  },
];

/** Requests the receivers saw their sender abandon (connection closed before the answer) within 5 s of `from`. */
const cutAt = (ctx: FaultContext, from: number) =>
  ctx.receivers.reduce((n, r) => n + r.requests.filter((q) => q.abandonedAt !== null && q.abandonedAt >= from && q.abandonedAt <= from + 5000).length, 0);

/** Twice the dev shape's rate: two workers share it. The short form keeps the dev shape's. */
const CLUSTER_LOAD = { events: 120, clients: 8, ratePerSecond: 10 };
const CLUSTER_SHORT_LOAD = { events: 30, ratePerSecond: 5 };

/**
 * On the cluster shape: PostgreSQL, the real Temporal server on it, two workers, two APIs; the clients send each
 * event to the APIs in turn and fail over to the other API when a try fails.
 */
export const CLUSTER_SCENARIOS: Scenario[] = [
  temporalKill('kill -9 the Temporal server (PostgreSQL persistence), keep it down 10 s while clients ingest, restart it'),
  {
    name: 'worker-kill-in-flight',
    title: 'kill -9 one of the two workers with requests in flight (receivers hold each 2 s), restart it',
    short: true,
    load: CLUSTER_LOAD,
    shortLoad: CLUSTER_SHORT_LOAD,
    holdMs: 2000,
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      await ctx.untilInFlight(15);
      const inFlight = ctx.receivers.reduce((sum, r) => sum + r.inFlight, 0);
      ctx.log(`    ${inFlight} requests in flight at the receivers (both workers sending)`);
      const window = await killAndRestart(ctx.stack.part('worker-1'), 'worker', { log: ctx.log });
      // The kill closes the killed worker's sockets at once: what the receivers saw abandoned right then was its share.
      const cut = cutAt(ctx, window.from);
      ctx.note(`${cut} requests cut by the kill of worker-1 (abandoned by their sender); worker-2 kept running`);
      if (cut === 0) throw new Error('worker-1 had no request in flight when it was killed: the scenario did not test what it says');
      return [window];
    },
  },
  {
    name: 'api-kill',
    title: 'kill -9 one of the two APIs during ingest, down 10 s (clients fail over to the other), restart it',
    short: true,
    load: CLUSTER_LOAD,
    shortLoad: CLUSTER_SHORT_LOAD,
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 4));
      return [await killAndRestart(ctx.stack.part('api-1'), 'api', { downMs: 10_000, log: ctx.log })];
    },
  },
  {
    name: 'postgres-restart',
    title: 'restart PostgreSQL under load (fast shutdown, down 5 s, start on the same data)',
    short: true,
    load: CLUSTER_LOAD,
    shortLoad: CLUSTER_SHORT_LOAD,
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      return [await stopAndStart(ctx.stack.part('postgres'), 'postgres', { downMs: 5000, log: ctx.log })];
    },
  },
];

export const scenariosOf = (shape: 'dev' | 'cluster'): Scenario[] => (shape === 'cluster' ? CLUSTER_SCENARIOS : SCENARIOS);

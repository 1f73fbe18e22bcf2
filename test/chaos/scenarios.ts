/**
 * The chaos scenarios of issue 9. Each injects its faults into a running load and returns the fault windows;
 * `runScenario` does the rest. `short` marks the ones `npm run chaos -- --short` runs (with `shortLoad`).
 */
import { failReceivers, killAndRestart } from './faults';
import { stopWorkerWithStuckAttempts } from './stuck-stop';
import type { ScenarioSpec } from './scenario';
import { waitUntil } from './wait';

// Long enough for the outbox to retry its claims and a 1-minute activity timeout to show.
const SETTLE_MS = 180_000;

export const SCENARIOS: (ScenarioSpec & { short: boolean })[] = [
  {
    name: 'worker-kill',
    title: 'kill -9 the worker mid-load, restart it',
    short: false,
    load: { events: 60, clients: 8, ratePerSecond: 5 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      return [await killAndRestart(ctx.stack.parts.worker, 'worker', { log: ctx.log })];
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
      return [await killAndRestart(ctx.stack.parts.worker, 'worker', { log: ctx.log })];
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
      const first = await killAndRestart(ctx.stack.parts.api, 'api', { log: ctx.log });
      await ctx.untilAccepted(Math.floor((ctx.eventsPlanned * 2) / 3));
      return [first, await killAndRestart(ctx.stack.parts.api, 'api', { log: ctx.log })];
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
      return [await killAndRestart(ctx.stack.parts.postgres, 'postgres', { downMs: 5000, log: ctx.log })];
    },
  },
  {
    name: 'temporal-kill',
    title: 'kill -9 Temporal mid-load, restart it on the same database file',
    // In the short form too: it is the proof that `npm start`'s durable Temporal (WAL, synchronous=NORMAL) loses nothing.
    short: true,
    load: { events: 60, clients: 8, ratePerSecond: 5 },
    shortLoad: { events: 30 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
      return [await killAndRestart(ctx.stack.parts.temporal, 'temporal', { log: ctx.log })];
    },
  },
  {
    name: 'temporal-down-45s',
    title: 'kill -9 Temporal, keep it down 45 s while clients ingest, restart on the same file',
    short: false,
    load: { events: 60, clients: 8, ratePerSecond: 1 },
    settleDeadlineMs: SETTLE_MS,
    inject: async (ctx) => {
      await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 5));
      return [await killAndRestart(ctx.stack.parts.temporal, 'temporal', { downMs: 45_000, log: ctx.log })];
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

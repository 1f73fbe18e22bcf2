/**
 * `npm run bench [-- burst|unloaded|steady|fanout|parked|noisy|soak]`: the throughput instrument. Each scenario runs the system as
 * `npm start` does (durable Temporal by default; BENCH_TEMPORAL=memory for the in-memory dev server) beside its
 * ceilings in the same run — raw HTTP (the same signed bytes, no Temporal) and the Temporal floor (a workflow
 * whose one local activity posts, on the same server and worker options) — and reports CPU per delivery for each
 * process from /proc. Bounded: every wait has a deadline, everything started is stopped. Prints a progress line
 * while it runs and a summary table; writes JSON to BENCH_OUT when set.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { bundleWorkflowCode } from '@temporalio/worker';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { benchArtefacts } from './artefacts';
import { memoryMiB } from './proc';
import { CpuWindow, historyCost, msPerItem, percentile, rawHttpCeiling, round, RssSampler, waitWithProgress } from './measure';
import { Arrival, BenchReceiver } from './receiver';
import { api, createWebhooks, ingest, ingestOne } from './driver';
import { noisy } from './noisy';
import { soak } from './soak';
import { serviceNode } from '../src/dev/node-runtime';
import { startSystem, System, TemporalMode } from './system';
import { checkTargets, TargetCheck, targetLines } from './targets';
import { runScript } from '../src/dev/run-script';
import { createDb } from '../src/db/knex';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (line: string) => console.log(line);
const quietLogger = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
type Result = Record<string, unknown>;

/** Helper processes a scenario spawns (the floor): killed when a run stops early. */
const helpers = new Set<ChildProcess>();

let floorBundle: Promise<string> | null = null;
/** The floor's workflow code, bundled once per bench run (prebuilt, as our worker's is: no webpack in its heap). */
function floorBundlePath(sys: System): Promise<string> {
  floorBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./floor/workflows'), logger: quietLogger as never }).then(({ code }) => {
    const file = path.join(sys.dir, 'floor-bundle.js');
    fs.writeFileSync(file, code);
    return file;
  });
  return floorBundle;
}

interface FloorRun {
  count: number;
  seconds: number;
  cpuSeconds: Record<string, number>;
  /** The floor process's CPU seconds by thread group (see snapshotThreads). */
  threadSeconds: Record<string, number>;
  latencies: number[];
  sampleIds: string[];
  peakRssMiB: number;
  lifetimePeakRssMiB: number;
}

/**
 * The Temporal floor in its own process, on the same server: `count` workflows at the same concurrency (or `paced`:
 * one at a time, each started once the previous one has posted). Workflow ids and receiver keys start with `prefix`.
 */
async function floorRun(sys: System, receiver: BenchReceiver, o: { count: number; concurrency: number; prefix: string; paced?: boolean }): Promise<FloorRun> {
  const bundle = await floorBundlePath(sys);
  const { floorProcess } = await benchArtefacts(log);
  const child: ChildProcess = spawn(process.execPath, [...serviceNode.flags, floorProcess], {
    cwd: path.resolve(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ...serviceNode.env,
      FLOOR_BUNDLE: bundle,
      TEMPORAL_ADDRESS: sys.temporal.address,
      RECEIVER_URL: receiver.url,
      COUNT: String(o.count),
      CONCURRENCY: String(o.concurrency),
      TASK_QUEUE: 'bench-floor',
      KEY_PREFIX: o.prefix,
      ...(o.paced ? { PACED: '1' } : {}),
    },
  });
  helpers.add(child);
  child.once('exit', () => helpers.delete(child));
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => l === 'READY' && resolve());
    child.once('exit', (code) => reject(new Error(`the floor process exited (${code})`)));
  });
  const ours = (a: Arrival) => a.key.startsWith(o.prefix);
  const window = new CpuWindow({ temporal: [sys.pids.temporal], postgres: [sys.pids.postgres], node: [child.pid!] }, [child.pid!]);
  const rss = new RssSampler([child.pid!]);
  const before = receiver.arrivals.length;
  child.stdin!.write('go\n');
  await waitWithProgress(`Temporal floor (${o.prefix}*)`, () => receiver.count(ours), o.count, Math.max(300_000, o.count * 200), log);
  const cpu = window.end(o.count);
  const latencies = receiver.arrivals.slice(before).filter(ours).map((a) => a.at - a.sentAt!);
  const peakRssMiB = rss.stop();
  const lifetimePeakRssMiB = round(memoryMiB(child.pid!).peak);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  // Ten spread over the run (each half of the burst's floor), as ours samples twenty.
  const samples = Math.min(10, o.count);
  const sampleIds = Array.from({ length: samples }, (_, i) => `${o.prefix}${Math.floor((i * o.count) / samples)}`);
  return { count: o.count, seconds: cpu.seconds, cpuSeconds: cpu.cpuSeconds, threadSeconds: cpu.nodeByThreadSeconds, latencies, sampleIds, peakRssMiB, lifetimePeakRssMiB };
}

/** One floor figure from its runs: rate over their summed windows, CPU over their summed items. */
async function floorSummary(sys: System, runs: FloorRun[]) {
  const count = runs.reduce((n, r) => n + r.count, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const summed = (pick: (r: FloorRun) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const r of runs) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const cpuByProcess = summed((r) => r.cpuSeconds);
  const latencies = runs.flatMap((r) => r.latencies);
  const history = await historyCost(sys.temporalClient, runs.flatMap((r) => r.sampleIds));
  return {
    perSecond: round(count / seconds),
    ...(runs.length > 1 ? { perSecondByRun: runs.map((r) => round(r.count / r.seconds)) } : {}),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    cpuMsPerDelivery: round((Object.values(cpuByProcess).reduce((a, b) => a + b, 0) * 1000) / count, 2),
    cpuMsByProcess: msPerItem(cpuByProcess, count),
    nodeCpuMsByThread: msPerItem(summed((r) => r.threadSeconds), count),
    historyEventsPerWorkflow: history.events,
    workflowTasksPerWorkflow: history.workflowTasks,
    eagerStartShare: history.eagerStartShare,
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    lifetimePeakRssMiB: Math.max(...runs.map((r) => r.lifetimePeakRssMiB)),
  };
}

/** Our deliveries of the events ingested since `from`, by delivery id. */
function deliveriesSinceOf(receiver: BenchReceiver, from: number, event = 'secret.created') {
  return receiver.arrivals.slice(from).filter((a) => a.event === event);
}

async function ourDeliveries(sys: System, receiver: BenchReceiver, o: { events: number; webhooks: number; concurrency: number; ratePerSecond?: number; prefix: string; event?: string }) {
  const deliveriesSince = (r: BenchReceiver, from: number) => deliveriesSinceOf(r, from, o.event);
  const expected = o.events * o.webhooks;
  const from = receiver.arrivals.length;
  const window = new CpuWindow({ temporal: [sys.pids.temporal], postgres: [sys.pids.postgres], node: sys.pids.node }, Object.values(sys.pids.app));
  const rss = new RssSampler(sys.pids.node);
  const since = Date.now();
  const backlog: number[] = [];
  let ingested = 0;
  const sampler = setInterval(() => backlog.push(ingested * o.webhooks - deliveriesSince(receiver, from).length), 1000);
  const ingestResult = await ingest(sys, o.events, { ...o, onAccepted: () => ingested++ });
  await waitWithProgress('deliveries', () => deliveriesSince(receiver, from).length, expected, Math.max(300_000, expected * 300), log, since);
  const cpu = window.end(expected);
  const peakRssMiB = rss.stop();
  clearInterval(sampler);
  const arrivals = deliveriesSince(receiver, from);
  const e2e = arrivals.map((a) => a.at - ingestResult.sentAt.get(a.key)!);
  const ids = new Map<string, number>();
  for (const a of arrivals) ids.set(a.deliveryId!, (ids.get(a.deliveryId!) ?? 0) + 1);
  const sample = [...ids.keys()].filter((_, i, all) => i % Math.max(1, Math.floor(all.length / 20)) === 0).slice(0, 20);
  const history = await historyCost(sys.temporalClient, sample.map(deliveryWorkflowId));
  return {
    expected,
    ingest: { perSecond: ingestResult.perSecond, p50Ms: ingestResult.p50Ms, p99Ms: ingestResult.p99Ms },
    perSecond: round(expected / cpu.seconds),
    seconds: round(cpu.seconds),
    e2eP50Ms: round(percentile(e2e, 50)),
    e2eP99Ms: round(percentile(e2e, 99)),
    cpuMsPerDelivery: cpu.totalMs,
    cpuMsByProcess: cpu.perItemMs,
    nodeCpuMsByThread: cpu.nodeByThreadMs,
    historyEventsPerDelivery: history.events,
    workflowTasksPerDelivery: history.workflowTasks,
    eagerStartShare: history.eagerStartShare,
    lost: expected - ids.size,
    duplicated: [...ids.values()].filter((n) => n > 1).length,
    peakRssMiB,
    backlog,
  };
}

/**
 * Each process's RSS now, or its lifetime peak (VmHWM: the worker's includes bundling the workflow code at
 * start-up): `app` (API+worker in one) or `api` and `worker`, then Temporal and PostgreSQL.
 */
function rssByProcess(sys: System, which: 'rss' | 'peak') {
  const ours = Object.fromEntries(Object.entries(sys.pids.app).map(([role, pid]) => [role, round(memoryMiB(pid)[which])]));
  return { ...ours, temporal: round(memoryMiB(sys.pids.temporal)[which]), postgres: round(memoryMiB(sys.pids.postgres)[which]) };
}

// ---- scenarios

/**
 * The same burst again to other webhooks whose endpoint answers in `delayMs` (BENCH_RECEIVER_DELAY_MS): slow
 * receivers must not cap the system, so its rate is compared with the fast run's in the same invocation.
 */
async function slowBurst(sys: System, receiver: BenchReceiver, o: { events: number; webhooks: number; concurrency: number; delayMs: number; fastPerSecond: number }) {
  log(`ours again, to ${o.webhooks} webhooks answering in ${o.delayMs} ms`);
  await createWebhooks(sys, receiver, o.webhooks, { prefix: 'slow', event: 'secret.updated' });
  receiver.delayMs = (p) => (p.startsWith('/slow') ? o.delayMs : 0);
  try {
    const slow = await ourDeliveries(sys, receiver, { events: o.events, webhooks: o.webhooks, concurrency: o.concurrency, prefix: 'slowburst', event: 'secret.updated' });
    return {
      delayMs: o.delayMs,
      deliveriesPerSecond: slow.perSecond,
      ratioToFast: round(slow.perSecond / o.fastPerSecond, 2),
      cpuMsPerDelivery: slow.cpuMsPerDelivery,
      workflowTasksPerDelivery: slow.workflowTasksPerDelivery,
      e2eP50Ms: slow.e2eP50Ms,
      e2eP99Ms: slow.e2eP99Ms,
      peakRssMiB: slow.peakRssMiB,
      lost: slow.lost,
    };
  } finally {
    receiver.delayMs = () => 0;
  }
}

async function burst(sys: System, receiver: BenchReceiver): Promise<Result> {
  const receiverDelayMs = env('BENCH_RECEIVER_DELAY_MS', 0);
  const events = env('BENCH_EVENTS', 3000);
  const webhooks = env('BENCH_WEBHOOKS', 2);
  const concurrency = env('BENCH_CONCURRENCY', 10);
  const deliveries = events * webhooks;
  log(`burst: ${events} events × ${webhooks} webhooks = ${deliveries} deliveries, ${concurrency} concurrent ingest clients, Temporal ${sys.mode}`);
  log('ceiling 1/2: raw HTTP');
  const raw = await rawHttpCeiling(receiver, deliveries, concurrency, log);
  // The server slows as its SQLite file grows, so the floor runs in two halves around ours: neither side gets
  // the fresher database.
  log('ceiling 2/2: the Temporal floor, first half');
  const floorBefore = await floorRun(sys, receiver, { count: Math.floor(deliveries / 2), concurrency, prefix: 'floor-a-' });
  log('ours');
  await createWebhooks(sys, receiver, webhooks);
  const ours = await ourDeliveries(sys, receiver, { events, webhooks, concurrency, prefix: 'burst' });
  log('ceiling 2/2: the Temporal floor, second half');
  const floorAfter = await floorRun(sys, receiver, { count: deliveries - Math.floor(deliveries / 2), concurrency, prefix: 'floor-b-' });
  const floor = await floorSummary(sys, [floorBefore, floorAfter]);
  const slowReceiver = receiverDelayMs > 0 ? await slowBurst(sys, receiver, { events, webhooks, concurrency, delayMs: receiverDelayMs, fastPerSecond: ours.perSecond }) : undefined;
  const oursSummary: Partial<typeof ours> = { ...ours };
  delete oursSummary.backlog;
  return {
    scenario: 'burst',
    events,
    webhooks,
    concurrency,
    durable: sys.mode === 'durable',
    deliveriesPerSecond: ours.perSecond,
    floorDeliveriesPerSecond: floor.perSecond,
    rawDeliveriesPerSecond: raw.perSecond,
    ratioToFloor: round(ours.perSecond / floor.perSecond, 2),
    ratioToRaw: round(ours.perSecond / raw.perSecond, 3),
    cpuMsPerDelivery: ours.cpuMsPerDelivery,
    floorCpuMsPerDelivery: floor.cpuMsPerDelivery,
    e2eP50Ms: ours.e2eP50Ms,
    e2eP99Ms: ours.e2eP99Ms,
    peakRssMiB: ours.peakRssMiB,
    lost: ours.lost,
    ...(slowReceiver ? { slowReceiver } : {}),
    ours: oursSummary,
    floor,
    raw,
    lifetimePeakRssMiBByProcess: rssByProcess(sys, 'peak'),
  };
}

/**
 * Unloaded: one client, one webhook, one event at a time — each sent once the previous one has reached the
 * receiver, so every event finds the system idle. The floor is paced the same way, and raw HTTP runs at
 * concurrency 1.
 */
async function unloaded(sys: System, receiver: BenchReceiver): Promise<Result> {
  const events = env('BENCH_EVENTS', 200);
  log(`unloaded: ${events} events × 1 webhook, each sent once the previous one was delivered, Temporal ${sys.mode}`);
  log('ceiling 1/2: raw HTTP');
  const raw = await rawHttpCeiling(receiver, events, 1, log);
  log('ceiling 2/2: the Temporal floor, paced');
  const floor = await floorSummary(sys, [await floorRun(sys, receiver, { count: events, concurrency: 1, prefix: 'floor-paced-', paced: true })]);
  log('ours');
  await createWebhooks(sys, receiver, 1);
  const window = new CpuWindow({ temporal: [sys.pids.temporal], postgres: [sys.pids.postgres], node: sys.pids.node });
  const e2e: number[] = [];
  const ingestMs: number[] = [];
  const timings = new Map<string, { sent: number; arrived: number }>();
  for (let i = 0; i < events; i++) {
    const id = `evt_unloaded${i}`;
    const arrived = receiver.next((a) => a.key === id, 30_000);
    const t0 = Date.now();
    await ingestOne(sys, id);
    ingestMs.push(Date.now() - t0);
    const at = (await arrived).at;
    e2e.push(at - t0);
    timings.set(id, { sent: t0, arrived: at });
    if (i % 50 === 49) log(`  ours: ${i + 1}/${events}`);
  }
  const cpu = window.end(events);
  const stages = await unloadedStages(sys, timings);
  return {
    scenario: 'unloaded',
    events,
    durable: sys.mode === 'durable',
    e2eP50Ms: round(percentile(e2e, 50)),
    e2eP99Ms: round(percentile(e2e, 99)),
    ingestP50Ms: round(percentile(ingestMs, 50)),
    floorP50Ms: floor.p50Ms,
    floorP99Ms: floor.p99Ms,
    rawP50Ms: raw.p50Ms,
    cpuMsPerDelivery: cpu.totalMs,
    floorCpuMsPerDelivery: floor.cpuMsPerDelivery,
    stagesP50Ms: stages,
    ours: { cpuMsByProcess: cpu.perItemMs },
    floor,
    raw,
  };
}

/**
 * Where an unloaded event's time goes, p50 of each stage, from the clocks each part keeps on this one host: sent →
 * stored (the insert's `received_at`) → claimed (the dispatch transaction's `dispatched_at`) → the delivery
 * workflow's first task (its `attempted_at`, workflow time) → at the receiver.
 */
async function unloadedStages(sys: System, timings: Map<string, { sent: number; arrived: number }>): Promise<Record<string, number>> {
  const db = createDb(sys.databaseUrl, { min: 0, max: 1 });
  try {
    const rows: { id: string; stored: number; claimed: number; task: number }[] = (
      await db.raw(
        `SELECT e.id, extract(epoch FROM e.received_at) * 1000 AS stored, extract(epoch FROM e.dispatched_at) * 1000 AS claimed,
                extract(epoch FROM min(a.attempted_at)) * 1000 AS task
           FROM events e JOIN deliveries d ON d.organization_id = e.organization_id AND d.event_id = e.id
           JOIN delivery_attempts a ON a.delivery_id = d.id
          WHERE e.id = ANY(?) GROUP BY e.id, e.received_at, e.dispatched_at`,
        [[...timings.keys()]],
      )
    ).rows;
    const stage = (f: (r: (typeof rows)[number], t: { sent: number; arrived: number }) => number) => round(percentile(rows.map((r) => f(r, timings.get(r.id)!)), 50));
    return {
      sentToStored: stage((r, t) => Number(r.stored) - t.sent),
      storedToClaimed: stage((r) => Number(r.claimed) - Number(r.stored)),
      claimedToWorkflowTask: stage((r) => Number(r.task) - Number(r.claimed)),
      workflowTaskToReceiver: stage((r, t) => t.arrived - Number(r.task)),
    };
  } finally {
    await db.destroy();
  }
}

async function steady(sys: System, receiver: BenchReceiver): Promise<Result> {
  const rate = env('BENCH_RATE', 36);
  const seconds = env('BENCH_SECONDS', 60);
  log(`steady: ${rate} events/s × 1 webhook for ${seconds} s, Temporal ${sys.mode}`);
  await createWebhooks(sys, receiver, 1);
  const ours = await ourDeliveries(sys, receiver, { events: rate * seconds, webhooks: 1, concurrency: 0, ratePerSecond: rate, prefix: 'steady' });
  const first = ours.backlog.slice(0, 10);
  const last = ours.backlog.slice(Math.max(0, seconds - 10), seconds);
  const avg = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  return {
    scenario: 'steady',
    durable: sys.mode === 'durable',
    ratePerSecond: rate,
    seconds,
    deliveriesPerSecond: ours.perSecond,
    e2eP50Ms: ours.e2eP50Ms,
    e2eP99Ms: ours.e2eP99Ms,
    cpuMsPerDelivery: ours.cpuMsPerDelivery,
    backlogFirst10s: avg(first),
    backlogLast10s: avg(last),
    keptUp: avg(last) <= Math.max(5, avg(first) * 2) && ours.e2eP99Ms <= 1000,
    backlog: ours.backlog,
    lost: ours.lost,
    peakRssMiB: ours.peakRssMiB,
  };
}

async function fanout(sys: System, receiver: BenchReceiver): Promise<Result> {
  const webhooks = env('BENCH_WEBHOOKS', 1000);
  log(`fanout: 1 event × ${webhooks} webhooks, Temporal ${sys.mode}`);
  await createWebhooks(sys, receiver, webhooks);
  const ours = await ourDeliveries(sys, receiver, { events: 1, webhooks, concurrency: 1, prefix: 'fanout' });
  return {
    scenario: 'fanout',
    durable: sys.mode === 'durable',
    webhooks,
    deliveriesPerSecond: ours.perSecond,
    allDeliveredSeconds: ours.seconds,
    e2eP50Ms: ours.e2eP50Ms,
    e2eP99Ms: ours.e2eP99Ms,
    cpuMsPerDelivery: ours.cpuMsPerDelivery,
    lost: ours.lost,
    peakRssMiB: ours.peakRssMiB,
  };
}

/**
 * Deliveries parked in back-off: each one's first attempt gets a 503 whose Retry-After (2 h) holds it on a durable
 * timer, so parking 100,000 costs one attempt each (the schedule's own 1-minute step would retry them while the
 * rest are still being parked). While they wait: RSS of each process, the API's latency, and a sample of 200
 * deliveries on the schedule's own 60 s back-off (a 500), whose retries must fire on time.
 */
async function parked(sys: System, receiver: BenchReceiver): Promise<Result> {
  const count = env('BENCH_PARKED', 100_000);
  const webhooks = env('BENCH_WEBHOOKS', 8);
  const events = Math.ceil(count / webhooks);
  const parkedCount = events * webhooks;
  log(`parked: ${parkedCount} deliveries (${events} events × ${webhooks} webhooks) failing and waiting in back-off, Temporal ${sys.mode}`);
  const ids = await createWebhooks(sys, receiver, webhooks, { prefix: 'park' });
  receiver.status = (p) => (p.startsWith('/park') ? 503 : 200);
  receiver.headers = (p): Record<string, string> => (p.startsWith('/park') ? { 'Retry-After': '7200' } : {});
  const from = receiver.arrivals.length;
  const started = Date.now();
  const window = new CpuWindow({ temporal: [sys.pids.temporal], postgres: [sys.pids.postgres], node: sys.pids.node });
  const rss = new RssSampler(sys.pids.node);
  const rssByRole = Object.fromEntries(Object.entries(sys.pids.app).map(([role, pid]) => [role, new RssSampler([pid])]));
  // BENCH_RATE paces the ingest (events/s): with the API and the worker apart there is no eager start, and an
  // ingest far ahead of the worker leaves Temporal's task queue a backlog it dispatches slowly (see docs/decisions.md, "Real time for every tenant").
  const ratePerSecond = process.env.BENCH_RATE ? env('BENCH_RATE', 0) : undefined;
  const ingestResult = await ingest(sys, events, { concurrency: env('BENCH_CONCURRENCY', 10), ratePerSecond, prefix: 'parked' });
  const attempted = () => new Set(deliveriesSinceOf(receiver, from).map((a) => a.deliveryId)).size;
  await waitWithProgress('first attempts (503, parked for 2 h)', attempted, parkedCount, Math.max(600_000, count * 60), log);
  const cpu = window.end(parkedCount);
  const parkedAfterSeconds = round((Date.now() - started) / 1000);
  const rssWhileParked = rssByProcess(sys, 'rss');

  // The API while they wait: the Delivery Log and the webhook list, sequentially.
  const apiLatencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const res = await api(sys, 'GET', i % 2 ? `/v1/webhooks/${ids[i % ids.length]}/deliveries?limit=50` : '/v1/webhooks?limit=50', sys.credentials.apiKey);
    if (res.status !== 200) throw new Error(`API while parked: ${res.status}`);
    apiLatencies.push(performance.now() - t0);
  }

  // Timers firing on time while the rest wait: 200 deliveries to a webhook answering 500, retried after 60 s.
  const sampleSize = 200;
  await createWebhooks(sys, receiver, 1, { prefix: 'timer', event: 'secret.updated' });
  receiver.status = (p) => (p.startsWith('/park') ? 503 : p.startsWith('/timer') ? 500 : 200);
  const sampleFrom = receiver.arrivals.length;
  await ingest(sys, sampleSize, { concurrency: 10, prefix: 'timer', event: 'secret.updated' });
  const attemptsAt = () => {
    const out = new Map<string, number[]>();
    for (const a of receiver.arrivals.slice(sampleFrom)) {
      if (a.event !== 'secret.updated') continue;
      const at = out.get(a.deliveryId!) ?? [];
      at.push(a.at);
      out.set(a.deliveryId!, at);
    }
    return out;
  };
  const retried = () => [...attemptsAt().values()].filter((at) => at.length >= 2).length;
  await waitWithProgress('sampled retries due after 60 s', retried, sampleSize, 300_000, log);
  const lateness = [...attemptsAt().values()].map(([first, second]) => second - first - 60_000);
  const peakRssMiB = rss.stop();
  return {
    scenario: 'parked',
    durable: sys.mode === 'durable',
    split: sys.split,
    parked: parkedCount,
    ingestPerSecond: ingestResult.perSecond,
    parkedAfterSeconds,
    parkedPerSecond: round(parkedCount / parkedAfterSeconds),
    cpuMsPerParkedDelivery: cpu.totalMs,
    cpuMsByProcess: cpu.perItemMs,
    rssMiBWhileParked: rssWhileParked,
    peakRssMiB,
    peakRssMiBByProcess: Object.fromEntries(Object.entries(rssByRole).map(([role, sampler]) => [role, sampler.stop()])),
    apiP50Ms: round(percentile(apiLatencies, 50)),
    apiP99Ms: round(percentile(apiLatencies, 99)),
    retrySample: sampleSize,
    retryLatenessP50Ms: round(percentile(lateness, 50)),
    retryLatenessP99Ms: round(percentile(lateness, 99)),
    retryLatenessMaxMs: round(Math.max(...lateness)),
  };
}

const SCENARIOS: Record<string, (sys: System, receiver: BenchReceiver) => Promise<Result>> = { burst, unloaded, steady, fanout, parked, soak };
/** Scenarios that start their own systems (each run on a fresh one). */
const MULTI_SYSTEM_SCENARIOS = ['noisy'];

function printSummary(result: Result) {
  const rows: [string, unknown][] = Object.entries(result).filter(([, v]) => typeof v !== 'object' || v === null);
  log(`\n${'─'.repeat(64)}\nCloudKeep Webhooks bench — ${result.scenario} (${os.cpus().length} cores, Node ${process.version})`);
  for (const [k, v] of rows) log(`  ${k.padEnd(28)} ${v}`);
  for (const [k, v] of Object.entries(result)) if (v && typeof v === 'object' && !Array.isArray(v)) log(`  ${k.padEnd(28)} ${JSON.stringify(v)}`);
  for (const line of targetLines(result.targets as TargetCheck[], result.durable === true)) log(`  ${line}`);
}

/** The summary on stdout (and BENCH_OUT), with the scenario's targets checked. */
function report(measured: Result) {
  const result = { ...measured, targets: checkTargets(measured), machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, at: new Date().toISOString() };
  printSummary(result);
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, JSON.stringify(result, null, 2) + '\n');
}

async function main() {
  const scenario = process.argv[2] ?? 'burst';
  const run = SCENARIOS[scenario];
  if (!run && !MULTI_SYSTEM_SCENARIOS.includes(scenario)) throw new Error(`unknown scenario ${scenario}; one of ${[...Object.keys(SCENARIOS), ...MULTI_SYSTEM_SCENARIOS].join(', ')}`);
  const mode = (process.env.BENCH_TEMPORAL ?? 'durable') as TemporalMode;
  if (!['durable', 'memory'].includes(mode)) throw new Error('BENCH_TEMPORAL is durable or memory');
  const receiver = await new BenchReceiver().start();
  const split = process.env.BENCH_SPLIT === '1';
  if (scenario === 'noisy') {
    try {
      const measured = await noisy((fairness) => startSystem(mode, log, split, fairness), receiver, mode === 'durable');
      report(measured);
    } finally {
      await receiver.stop();
    }
    return;
  }
  log(`Starting the system (PostgreSQL, Temporal dev server ${mode === 'durable' ? 'on a SQLite file, as npm start' : 'in memory'}, ${process.env.BENCH_SPLIT === '1' ? 'API and worker as separate processes' : 'API+worker in one process'})…`);
  const sys = await startSystem(mode, log, split);
  let stopping = false;
  const stop = async (keepLogs: boolean) => {
    if (stopping) return;
    stopping = true;
    for (const child of helpers) child.kill('SIGKILL');
    await sys.stop({ keepLogs }).catch((err) => console.error('stopping:', err.message));
    await receiver.stop();
  };
  process.once('SIGINT', () => void stop(false).then(() => process.exit(130)));
  let failed = true;
  try {
    report(await Promise.race([run(sys, receiver), sys.crashed]));
    failed = false;
  } finally {
    await stop(failed);
  }
}

runScript(main, { brief: true });

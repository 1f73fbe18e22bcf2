/**
 * `npm run bench -- noisy`: real time for every tenant while one bursts. Tenant A ingests a burst to 4 webhooks, far
 * faster than the machine delivers; meanwhile tenant B sends one event every 2 s and A clicks Test on a fifth
 * webhook every 6 s. It runs twice on fresh systems, Temporal's task-queue priority and fairness off then on, and
 * reports B's and the Test's latency, A's deliveries/s and how long A's backlog lasted — plus, from the workflow
 * histories, where B and the Test waited: in the API, in Temporal's task queue, or in the worker.
 * BENCH_RECEIVER_DELAY_MS=2000 makes A's endpoints answer in 2 s (slow receivers hold the worker's slots).
 */
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { createDb } from '../src/db/knex';
import { createKey, createOrganization } from '../src/dev/credentials';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { api, createWebhooks, ingest, ingestOne, Tenant } from './driver';
import { percentile, round, waitWithProgress } from './measure';
import type { Arrival, BenchReceiver } from './receiver';
import type { System } from './system';

const EventType = proto.api.enums.v1.EventType;
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (line: string) => console.log(line);

/** One latency sample: sent, accepted by the API, and arrived at the receiver (epoch ms), with its delivery id. */
interface Sample {
  sentAt: number;
  acceptedAt: number;
  arrivedAt?: number;
  deliveryId?: string;
}

/**
 * Where a delivery waited, from its history: the API's answer, the outbox (202 → the worker's start), Temporal's
 * queue (start → first task), the worker (first task → the request at the receiver).
 */
async function waits(client: Client, samples: Sample[]) {
  const api: number[] = [];
  const outbox: number[] = [];
  const queue: number[] = [];
  const worker: number[] = [];
  let eager = 0;
  for (const s of samples) {
    if (!s.deliveryId || s.arrivedAt === undefined) continue;
    const history = (await client.workflow.getHandle(deliveryWorkflowId(s.deliveryId)).fetchHistory()).events ?? [];
    const at = (type: number) => {
      const e = history.find((h) => h.eventType === type);
      return e?.eventTime ? Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : NaN;
    };
    const started = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const taskStarted = at(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    api.push(s.acceptedAt - s.sentAt);
    outbox.push(Math.max(0, started - s.acceptedAt));
    queue.push(Math.max(0, taskStarted - started));
    worker.push(Math.max(0, s.arrivedAt - taskStarted));
    if (taskStarted - started < 1) eager++;
  }
  const stat = (xs: number[]) => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(xs.length ? Math.max(...xs) : 0) });
  return { apiMs: stat(api), outboxMs: stat(outbox), queueMs: stat(queue), workerMs: stat(worker), eagerShare: round(eager / Math.max(1, api.length), 2) };
}

function latencyOf(samples: Sample[]) {
  const ms = samples.filter((s) => s.arrivedAt !== undefined).map((s) => s.arrivedAt! - s.sentAt);
  return { count: samples.length, arrived: ms.length, p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)), maxMs: round(ms.length ? Math.max(...ms) : 0) };
}

async function tenantB(sys: System): Promise<Tenant> {
  const db = createDb(sys.databaseUrl, { min: 0, max: 1 });
  try {
    const id = await createOrganization(db, 'Tenant B', 'owner@tenant-b.bench');
    return { apiKey: await createKey(db, id, 'admin', 'bench'), serviceToken: await createKey(db, id, 'service', 'bench') };
  } finally {
    await db.destroy();
  }
}

/** One run of the scenario on one system; `tag` keeps its receiver paths and event ids apart from the other run's. */
async function noisyRun(sys: System, receiver: BenchReceiver, o: { tag: string; events: number; delayMs: number }) {
  const { tag } = o;
  const b = await tenantB(sys);
  await createWebhooks(sys, receiver, 4, { prefix: `${tag}-a` });
  // The Test button's webhook subscribes to an event nobody sends: it only ever gets pings.
  const [testWebhook] = await createWebhooks(sys, receiver, 1, { prefix: `${tag}-test`, event: 'vault.deleted' });
  await createWebhooks(sys, receiver, 1, { prefix: `${tag}-b`, tenant: b });
  receiver.delayMs = (p) => (p.startsWith(`/${tag}-a`) ? o.delayMs : 0);

  const from = receiver.arrivals.length;
  const expectedA = o.events * 4;
  const isA = (a: Arrival) => a.event === 'secret.created' && a.key.startsWith(`evt_${tag}A`);
  const arrivalsA = () => receiver.arrivals.slice(from).filter(isA);
  const bSamples = new Map<string, Sample>();
  const testSamples = new Map<string, Sample>();
  const onArrival = (a: Arrival) => {
    const b = a.event === 'secret.created' ? bSamples.get(a.key) : undefined;
    if (b && b.arrivedAt === undefined) Object.assign(b, { arrivedAt: a.at, deliveryId: a.deliveryId });
    const test = a.event === 'ping' && a.deliveryId ? testSamples.get(a.deliveryId) : undefined;
    if (test && test.arrivedAt === undefined) test.arrivedAt = a.at;
  };
  const watch = setInterval(() => receiver.arrivals.slice(from).forEach(onArrival), 200);

  log(`  ${tag}: A ingests ${o.events} events × 4 webhooks${o.delayMs ? ` (A's endpoints answer in ${o.delayMs} ms)` : ''}; B every 2 s, Test every 6 s`);
  const startedAt = Date.now();
  const burst = ingest(sys, o.events, { concurrency: 10, prefix: `${tag}A` });
  burst.catch(() => undefined); // awaited below, after the deliveries: an ingest failure is thrown there
  let aDone = false;
  const sendB = async () => {
    for (let i = 0; !aDone; i++) {
      const id = `evt_${tag}B${i}`;
      const sample: Sample = { sentAt: Date.now(), acceptedAt: 0 };
      bSamples.set(id, sample);
      await ingestOne(sys, id, 'secret.created', b);
      sample.acceptedAt = Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, sample.sentAt + 2000 - Date.now())));
    }
  };
  const clickTest = async () => {
    while (!aDone) {
      const sentAt = Date.now();
      const res = await api(sys, 'POST', `/v1/webhooks/${testWebhook}/test`, sys.credentials.apiKey);
      if (res.status !== 202) throw new Error(`Test: ${res.status} ${JSON.stringify(res.body)}`);
      testSamples.set(res.body.deliveryId, { sentAt, acceptedAt: Date.now(), deliveryId: res.body.deliveryId });
      await new Promise((r) => setTimeout(r, Math.max(0, sentAt + 6000 - Date.now())));
    }
  };
  const others = Promise.all([sendB(), clickTest()]);
  // Progress from the start: A's ingest itself lasts a while when the API waits on a saturated Temporal.
  await waitWithProgress(`${tag}: A's deliveries`, () => arrivalsA().length, expectedA, Math.max(600_000, expectedA * 300), log, startedAt);
  const ingested = await burst;
  aDone = true;
  await others;
  const lastA = Math.max(...arrivalsA().map((a) => a.at));
  const pending = () => [...bSamples.values(), ...testSamples.values()].filter((s) => s.arrivedAt === undefined).length;
  await waitWithProgress(`${tag}: B's and the Test's last deliveries`, () => bSamples.size + testSamples.size - pending(), bSamples.size + testSamples.size, 120_000, log);
  clearInterval(watch);
  receiver.arrivals.slice(from).forEach(onArrival);
  receiver.delayMs = () => 0;

  const backlogSeconds = round((lastA - startedAt) / 1000);
  return {
    fairness: sys.fairness,
    a: {
      deliveries: expectedA,
      deliveriesPerSecond: round(expectedA / backlogSeconds),
      backlogSeconds,
      ingestPerSecond: round(ingested.perSecond * 4),
      lost: expectedA - new Set(arrivalsA().map((a) => a.deliveryId)).size,
    },
    b: { ...latencyOf([...bSamples.values()]), waited: await waits(sys.temporalClient, [...bSamples.values()]) },
    test: { ...latencyOf([...testSamples.values()]), waited: await waits(sys.temporalClient, [...testSamples.values()]) },
  };
}

export type NoisyRun = Awaited<ReturnType<typeof noisyRun>>;

export async function noisy(startWith: (fairness: boolean) => Promise<System>, receiver: BenchReceiver, durable: boolean) {
  const delayMs = env('BENCH_RECEIVER_DELAY_MS', 0);
  const events = env('BENCH_EVENTS', delayMs ? 1500 : 3000);
  log(`noisy: tenant A bursts ${events} events × 4 webhooks${delayMs ? `, its endpoints answering in ${delayMs} ms` : ''}; tenant B one event every 2 s; a Test every 6 s. Priority and fairness off, then on.`);
  const runs: NoisyRun[] = [];
  for (const fairness of [false, true]) {
    log(`priority and fairness ${fairness ? 'on' : 'off'}: starting a fresh system`);
    const sys = await startWith(fairness);
    let failed = true;
    try {
      runs.push(await Promise.race([noisyRun(sys, receiver, { tag: fairness ? 'on' : 'off', events, delayMs }), sys.crashed]));
      failed = false;
    } finally {
      await sys.stop({ keepLogs: failed });
    }
  }
  const [off, on] = runs;
  return {
    scenario: 'noisy',
    durable,
    events,
    receiverDelayMs: delayMs,
    bP99MsOff: off.b.p99Ms,
    bP99Ms: on.b.p99Ms,
    bP50Ms: on.b.p50Ms,
    testMaxMsOff: off.test.maxMs,
    testMaxMs: on.test.maxMs,
    aDeliveriesPerSecondOff: off.a.deliveriesPerSecond,
    aDeliveriesPerSecond: on.a.deliveriesPerSecond,
    aRatioToOff: round(on.a.deliveriesPerSecond / off.a.deliveriesPerSecond, 2),
    aBacklogSeconds: on.a.backlogSeconds,
    lost: off.a.lost + on.a.lost,
    off,
    on,
  };
}

import { temporal as proto } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { AgentPool } from '../src/delivery/agent-pool';
import { sendWebhookRequest } from '../src/delivery/http-sender';
import { buildRequest } from '../src/destinations';
import { benchPayload } from './payload';
import { cpuDelta, CpuSnapshot, memoryMiB, snapshotCpu, snapshotThreads, threadDelta, ThreadSnapshot } from './proc';
import type { BenchReceiver } from './receiver';

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Waits until `done()` with a progress line every 2 s; throws past the deadline. */
export async function waitWithProgress(label: string, done: () => number, target: number, deadlineMs: number, log: (l: string) => void, since = Date.now()): Promise<void> {
  const started = Date.now();
  let lastLine = 0;
  for (;;) {
    const n = done();
    if (n >= target) return;
    const elapsed = Date.now() - started;
    if (elapsed > deadlineMs) throw new Error(`${label}: only ${n} of ${target} after ${Math.round(elapsed / 1000)} s`);
    if (elapsed - lastLine >= 2000) {
      lastLine = elapsed;
      log(`  ${label}: ${n}/${target} (${(n / ((Date.now() - since) / 1000)).toFixed(1)}/s since the start)`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CPU per process tree over a window, in ms per item. */
export class CpuWindow {
  private before: CpuSnapshot;
  private threadsBefore: ThreadSnapshot[];
  private startedAt = performance.now();
  /** `threadsOf`: Node processes whose CPU is also split by thread (see snapshotThreads). */
  constructor(
    private readonly roots: Record<string, number[]>,
    private readonly threadsOf: number[] = [],
  ) {
    this.before = snapshotCpu(roots);
    this.threadsBefore = threadsOf.map(snapshotThreads);
  }
  end(items: number) {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const delta = cpuDelta(this.before, snapshotCpu(this.roots));
    const byThread = { main: 0, core: 0, otherNode: 0, exited: 0 };
    this.threadsOf.forEach((pid, i) => {
      const d = threadDelta(this.threadsBefore[i], snapshotThreads(pid));
      for (const k of Object.keys(byThread) as (keyof typeof byThread)[]) byThread[k] += d[k];
    });
    const totalMs = round(Object.values(delta).reduce((a, b) => a + b, 0) * 1000 / items, 2);
    return { seconds, perItemMs: msPerItem(delta, items), totalMs, cpuSeconds: delta, nodeByThreadSeconds: byThread, nodeByThreadMs: msPerItem(byThread, items) };
  }
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** CPU seconds by name → ms per item. */
export const msPerItem = (seconds: Record<string, number>, items: number) =>
  Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, round((v * 1000) / items, 2)]));

const EventType = proto.api.enums.v1.EventType;
const eventMs = (e: proto.api.history.v1.IHistoryEvent | undefined) => (e?.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + (e.eventTime.nanos ?? 0) / 1e6 : NaN);

/**
 * History events and workflow tasks per workflow, from a sample of finished workflows, and the share whose first
 * workflow task went out eagerly with the start's answer: the server writes that task's start in the same
 * transaction as the workflow's (under a millisecond apart), where a task dispatched through matching waits for a poll.
 */
export async function historyCost(client: Client, workflowIds: string[]): Promise<{ events: number; workflowTasks: number; eagerStartShare: number; sampled: number }> {
  let events = 0;
  let tasks = 0;
  let eager = 0;
  for (const id of workflowIds) {
    const history = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    events += history.length;
    tasks += history.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
    const firstTaskStarted = history.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    if (eventMs(firstTaskStarted) - eventMs(history[0]) < 1) eager++;
  }
  const n = Math.max(1, workflowIds.length);
  return { events: round(events / n, 2), workflowTasks: round(tasks / n, 2), eagerStartShare: round(eager / n, 2), sampled: workflowIds.length };
}

/** The raw-HTTP ceiling: the same signed bytes, the same sender and keep-alive pool, no Temporal, no database. */
export async function rawHttpCeiling(receiver: BenchReceiver, count: number, concurrency: number, log: (l: string) => void) {
  const agents = new AgentPool();
  const policy = { allowPrivateTargets: true, requireHttps: false };
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const progress = setInterval(() => log(`  raw HTTP: ${next}/${count}`), 2000);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const key = `raw-${next++}`;
        const request = buildRequest('generic', benchPayload(key), { url: `${receiver.url}/raw`, secret: 'whsec_raw_bench_secret_0123456789ab', deliveryId: key });
        request.headers['X-Bench-Key'] = key;
        const t0 = performance.now();
        const sent = await sendWebhookRequest(request, { policy, agents });
        if (!sent.succeeded) throw new Error(`raw post failed: ${sent.error}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  clearInterval(progress);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agents.destroy();
  return {
    perSecond: round(count / seconds),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    // Client and receiver share the bench process: its CPU is both sides of the exchange.
    cpuMsPerRequest: round((cpu.user + cpu.system) / 1000 / count, 3),
  };
}

/** The largest resident size of some process trees together, seen while a window runs (sampled every 250 ms). */
export class RssSampler {
  private max = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pids: number[]) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }
  private sample() {
    this.max = Math.max(this.max, this.pids.reduce((sum, pid) => sum + memoryMiB(pid).rss, 0));
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return round(this.max);
  }
}

/**
 * `npm run bench -- soak`: a steady load at 80% of capacity for 30 minutes (BENCH_SOAK_MINUTES), with a failing
 * endpoint (answers 500, so its deliveries retry on the schedule) and a slow one (answers in 2 s) among healthy ones.
 * Per window (BENCH_SOAK_WINDOW_MINUTES, 5): the RSS of each process, the p50/p99 from ingest to the receiver, how
 * late the failing endpoint's retries fired, and the deliveries stalled (pending or retrying past their due time);
 * over the run, each process's RSS slope (MiB/hour) and, after a drain, the deliveries lost (accepted, never at the
 * receiver). Capacity is measured first by a short burst to the healthy endpoints (BENCH_SOAK_CAPACITY gives it in
 * deliveries/s instead; BENCH_SOAK_RATE gives the soak's events/s outright). Bounded: it stops by itself.
 */
import { createDb } from '../src/db/knex';
import { RETRY_DELAYS_MS } from '../src/workflows/schedule';
import { createWebhooks, ingest, ingestOne } from './driver';
import { percentile, round, waitWithProgress } from './measure';
import { memoryMiB } from './proc';
import type { Arrival, BenchReceiver } from './receiver';
import type { System } from './system';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (line: string) => console.log(line);

type Role = 'healthy' | 'failing' | 'slow';

/** Each role's event type, so an arrival says whose it is: healthy webhooks take secret.created, and so on. */
const EVENT_OF: Record<Role, string> = { healthy: 'secret.created', failing: 'secret.updated', slow: 'secret.deleted' };
const ROLE_OF: Record<string, Role> = Object.fromEntries(Object.entries(EVENT_OF).map(([role, event]) => [event, role as Role]));
/** Ten events in turn: eight to the healthy webhooks (each to all of them), one to the failing, one to the slow. */
export const MIX: Role[] = ['healthy', 'healthy', 'healthy', 'healthy', 'failing', 'healthy', 'healthy', 'healthy', 'healthy', 'slow'];

/** Attempts a failing delivery makes within a run of `minutes`: the first, and each retry due before the run ends. */
export function failingAttemptsWithin(minutes: number): number {
  let at = 0;
  let attempts = 1;
  for (const delay of RETRY_DELAYS_MS) {
    at += delay;
    if (at >= minutes * 60_000) break;
    attempts++;
  }
  return attempts;
}

/** Attempts per event once the failing endpoint's retries have caught up: what 80% of capacity is measured in. */
export function attemptsPerEvent(healthyWebhooks: number, minutes: number): number {
  const per = { healthy: healthyWebhooks, failing: failingAttemptsWithin(minutes), slow: 1 };
  return MIX.reduce((sum, role) => sum + per[role], 0) / MIX.length;
}

/** Least-squares slope of (epoch ms, MiB) samples, in MiB per hour; 0 with fewer than two distinct times. */
export function slopePerHour(samples: { at: number; mib: number }[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanT = samples.reduce((s, x) => s + x.at, 0) / n;
  const meanV = samples.reduce((s, x) => s + x.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.at - meanT) * (x.mib - meanV);
    den += (x.at - meanT) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

interface Stalled {
  pending: number;
  retrying: number;
}

/** The soak's receiving side: which arrival is whose, when each event was sent. */
class Ledger {
  readonly sentAt = new Map<string, number>();
  readonly roleOf = new Map<string, Role>();
  /** Per delivery id: its arrivals (ms), in order. */
  readonly arrivals = new Map<string, { key: string; role: Role; at: number[] }>();
  private seen = 0;

  constructor(private readonly receiver: BenchReceiver) {}

  /** Takes in what the receiver got since the last call. */
  update(): void {
    const all = this.receiver.arrivals;
    for (; this.seen < all.length; this.seen++) {
      const a: Arrival = all[this.seen];
      const role = a.event ? ROLE_OF[a.event] : undefined;
      if (!role || !a.deliveryId || !this.sentAt.has(a.key)) continue;
      const entry = this.arrivals.get(a.deliveryId) ?? { key: a.key, role, at: [] };
      entry.at.push(a.at);
      this.arrivals.set(a.deliveryId, entry);
    }
  }

  /** Deliveries that reached the receiver at least once, by role. */
  delivered(): Record<Role, number> {
    const out = { healthy: 0, failing: 0, slow: 0 };
    for (const d of this.arrivals.values()) out[d.role]++;
    return out;
  }
}

export async function soak(sys: System, receiver: BenchReceiver) {
  const minutes = env('BENCH_SOAK_MINUTES', 30);
  const windowMinutes = env('BENCH_SOAK_WINDOW_MINUTES', 5);
  const healthyCount = env('BENCH_SOAK_HEALTHY_WEBHOOKS', 2);
  const slowMs = env('BENCH_SOAK_SLOW_MS', 2000);
  const load = env('BENCH_SOAK_LOAD', 0.8);
  const stallSeconds = env('BENCH_SOAK_STALL_SECONDS', 60);
  const drainSeconds = env('BENCH_SOAK_DRAIN_SECONDS', 300);
  const durationMs = minutes * 60_000;
  const windowMs = windowMinutes * 60_000;

  log(`soak: ${minutes} min at ${Math.round(load * 100)}% of capacity, windows of ${windowMinutes} min; ${healthyCount} healthy webhooks, one answering 500, one answering in ${slowMs} ms; Temporal ${sys.mode}`);
  const ids: Record<Role, string[]> = {
    healthy: await createWebhooks(sys, receiver, healthyCount, { prefix: 'soak-ok', event: EVENT_OF.healthy }),
    failing: await createWebhooks(sys, receiver, 1, { prefix: 'soak-fail', event: EVENT_OF.failing }),
    slow: await createWebhooks(sys, receiver, 1, { prefix: 'soak-slow', event: EVENT_OF.slow }),
  };

  // Capacity: deliveries/s of a burst to the healthy webhooks, unless given.
  const perEvent = attemptsPerEvent(healthyCount, minutes);
  let capacity = process.env.BENCH_SOAK_CAPACITY ? env('BENCH_SOAK_CAPACITY', 0) : undefined;
  const givenRate = process.env.BENCH_SOAK_RATE ? env('BENCH_SOAK_RATE', 0) : undefined;
  if (capacity === undefined && givenRate === undefined) {
    const probeEvents = env('BENCH_SOAK_PROBE_EVENTS', 1000);
    const expected = probeEvents * healthyCount;
    log(`capacity: a burst of ${probeEvents} events × ${healthyCount} healthy webhooks`);
    const started = Date.now();
    const isProbe = (a: Arrival) => a.key.startsWith('evt_soakprobe') && a.event === EVENT_OF.healthy;
    await ingest(sys, probeEvents, { concurrency: 10, prefix: 'soakprobe', event: EVENT_OF.healthy });
    await waitWithProgress('capacity burst', () => receiver.count(isProbe), expected, Math.max(300_000, expected * 300), log, started);
    const last = Math.max(...receiver.arrivals.filter(isProbe).map((a) => a.at));
    capacity = round(expected / ((last - started) / 1000));
  }
  const eventsPerSecond = givenRate ?? round((load * capacity!) / perEvent, 2);
  log(`capacity ${capacity ?? '(not measured)'} deliveries/s → ${eventsPerSecond} events/s, ${round(eventsPerSecond * perEvent)} attempts/s once the failing endpoint's retries (${failingAttemptsWithin(minutes)} per delivery) have caught up`);

  // The failing and slow endpoints start misbehaving now (their pings were answered at once).
  receiver.status = (p) => (p.startsWith('/soak-fail') ? 500 : 200);
  receiver.delayMs = (p) => (p.startsWith('/soak-slow') ? slowMs : 0);

  const ledger = new Ledger(receiver);
  const db = createDb(sys.databaseUrl, { min: 0, max: 1 });
  const processes: Record<string, number> = { ...sys.pids.app, temporal: sys.pids.temporal, postgres: sys.pids.postgres };
  const rss: Record<string, { at: number; mib: number }[]> = Object.fromEntries(Object.keys(processes).map((p) => [p, []]));
  const stalledSamples: { at: number; byRole: Record<Role, Stalled> }[] = [];
  const allIds = Object.values(ids).flat();
  const roleOfWebhook = new Map(Object.entries(ids).flatMap(([role, list]) => list.map((id) => [id, role as Role])));

  const sampleRss = () => {
    const at = Date.now();
    for (const [name, pid] of Object.entries(processes)) rss[name].push({ at, mib: round(memoryMiB(pid).rss) });
  };
  /** Deliveries pending longer than `stallSeconds` since they were made, or retrying that long past their due time. */
  const sampleStalled = async () => {
    const { rows } = await db.raw(
      `SELECT webhook_id,
              count(*) FILTER (WHERE status = 'pending' AND created_at < now() - make_interval(secs => ?)) AS pending,
              count(*) FILTER (WHERE status = 'retrying' AND next_attempt_at < now() - make_interval(secs => ?)) AS retrying
         FROM deliveries WHERE webhook_id = ANY(?) AND status IN ('pending', 'retrying') GROUP BY webhook_id`,
      [stallSeconds, stallSeconds, allIds],
    );
    const byRole: Record<Role, Stalled> = { healthy: { pending: 0, retrying: 0 }, failing: { pending: 0, retrying: 0 }, slow: { pending: 0, retrying: 0 } };
    for (const r of rows as { webhook_id: string; pending: string; retrying: string }[]) {
      const s = byRole[roleOfWebhook.get(r.webhook_id)!];
      s.pending += Number(r.pending);
      s.retrying += Number(r.retrying);
    }
    stalledSamples.push({ at: Date.now(), byRole });
    return byRole;
  };
  let sampling = false;
  const stallTimer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    void sampleStalled()
      .catch((err) => log(`  stalled query failed: ${(err as Error).message}`))
      .finally(() => (sampling = false));
  }, 30_000);
  const rssTimer = setInterval(sampleRss, 10_000);

  const started = Date.now();
  const windowCount = Math.ceil(durationMs / windowMs);
  let accepted = 0;
  let ingestErrors = 0;
  let maxIngestLagMs = 0;
  const sentByRole = { healthy: 0, failing: 0, slow: 0 };

  /** A line at each window's end, from what arrived so far (the report recomputes it after the drain). */
  const windowLine = (w: number) => {
    ledger.update();
    const figures = windowFigures(w);
    const memory = Object.entries(figures.rssMiB).map(([name, r]) => `${name} ${r.last}`).join(', ');
    const ms = (x: number) => (Number.isNaN(x) ? '–' : `${x} ms`);
    log(`  window ${w + 1}/${windowCount} (${w * windowMinutes}–${(w + 1) * windowMinutes} min): ${figures.events} events, healthy p99 ${ms(figures.healthy.p99Ms)}, slow p99 ${ms(figures.slow.p99Ms)}, first retries late p99 ${ms(figures.retryLatenessP99Ms)}, stalled ${figures.stalledMax}, RSS MiB ${memory}`);
  };

  function windowFigures(w: number) {
    const from = started + w * windowMs;
    const to = from + windowMs;
    const inWindow = (at: number) => at >= from && at < to;
    const latency: Record<Role, number[]> = { healthy: [], failing: [], slow: [] };
    const retryLateness: number[] = [];
    for (const d of ledger.arrivals.values()) {
      const sent = ledger.sentAt.get(d.key)!;
      if (inWindow(sent)) latency[d.role].push(d.at[0] - sent);
      // The first retry is due a minute after the first attempt: how late it fired, by when it was due.
      if (d.role === 'failing' && d.at.length >= 2 && inWindow(d.at[0] + RETRY_DELAYS_MS[0])) retryLateness.push(d.at[1] - d.at[0] - RETRY_DELAYS_MS[0]);
    }
    const stat = (xs: number[]) => ({ count: xs.length, p50Ms: round(percentile(xs, 50)), p99Ms: round(percentile(xs, 99)), maxMs: round(xs.length ? Math.max(...xs) : NaN) });
    const rssMiB = Object.fromEntries(
      Object.entries(rss).map(([name, samples]) => {
        const xs = samples.filter((s) => inWindow(s.at)).map((s) => s.mib);
        return [name, { mean: round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)), max: xs.length ? Math.max(...xs) : NaN, last: xs.length ? xs[xs.length - 1] : NaN }];
      }),
    );
    const stalled = stalledSamples.filter((s) => inWindow(s.at)).map((s) => Object.values(s.byRole).reduce((n, r) => n + r.pending + r.retrying, 0));
    return {
      window: w + 1,
      fromMinute: w * windowMinutes,
      toMinute: (w + 1) * windowMinutes,
      events: [...ledger.sentAt.values()].filter(inWindow).length,
      healthy: stat(latency.healthy),
      slow: stat(latency.slow),
      failingFirstAttempt: stat(latency.failing),
      retryLatenessP99Ms: round(percentile(retryLateness, 99)),
      stalledMax: stalled.length ? Math.max(...stalled) : 0,
      rssMiB,
    };
  }

  sampleRss();
  let nextWindow = 1;
  const inFlight = new Set<Promise<void>>();
  try {
    log(`soaking for ${minutes} min at ${eventsPerSecond} events/s`);
    for (let i = 0; ; i++) {
      const due = started + (i * 1000) / eventsPerSecond;
      if (due - started >= durationMs) break;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else maxIngestLagMs = Math.max(maxIngestLagMs, -wait);
      while (Date.now() >= started + nextWindow * windowMs) windowLine(nextWindow++ - 1);
      const role = MIX[i % MIX.length];
      const id = `evt_soak${i}`;
      ledger.sentAt.set(id, Date.now());
      sentByRole[role]++;
      // Bounded: a stalled API shows as ingest lag, not as unbounded requests in flight.
      if (inFlight.size >= 200) await Promise.race(inFlight);
      const p = ingestOne(sys, id, EVENT_OF[role])
        .then(() => void accepted++)
        .catch(() => {
          ingestErrors++;
          ledger.sentAt.delete(id);
          sentByRole[role]--;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    while (nextWindow <= windowCount) windowLine(nextWindow++ - 1);

    // The drain: every accepted delivery must reach the receiver (a failing one's first attempt counts).
    const expected = { healthy: sentByRole.healthy * healthyCount, failing: sentByRole.failing, slow: sentByRole.slow };
    const expectedTotal = expected.healthy + expected.failing + expected.slow;
    const delivered = () => {
      ledger.update();
      return Object.values(ledger.delivered()).reduce((a, b) => a + b, 0);
    };
    const drainStarted = Date.now();
    await waitWithProgress('drain', delivered, expectedTotal, drainSeconds * 1000, log).catch((err) => log(`  ${(err as Error).message}`));
    const drainedInSeconds = round((Date.now() - drainStarted) / 1000);
    ledger.update();
    const stalledAfterDrain = await sampleStalled();
    sampleRss();

    const arrived = ledger.delivered();
    const lost = { healthy: expected.healthy - arrived.healthy, failing: expected.failing - arrived.failing, slow: expected.slow - arrived.slow };
    const duplicated = [...ledger.arrivals.values()].filter((d) => d.role !== 'failing' && d.at.length > 1).length;
    const windows = Array.from({ length: windowCount }, (_, w) => windowFigures(w));
    // The slope from the end of the first window on: start-up and warm-up (JIT, caches, pools) are not a leak.
    const steadyFrom = started + Math.min(windowMs, durationMs / 2);
    const rssSlopeMiBPerHour = Object.fromEntries(Object.entries(rss).map(([name, samples]) => [name, round(slopePerHour(samples.filter((s) => s.at >= steadyFrom)), 1)]));
    const healthyP99s = windows.map((w) => w.healthy.p99Ms).filter((x) => !Number.isNaN(x));
    return {
      scenario: 'soak',
      durable: sys.mode === 'durable',
      split: sys.split,
      minutes,
      windowMinutes,
      load,
      capacityDeliveriesPerSecond: capacity ?? null,
      eventsPerSecond,
      attemptsPerSecond: round(eventsPerSecond * perEvent),
      healthyWebhooks: healthyCount,
      slowEndpointMs: slowMs,
      accepted,
      ingestErrors,
      maxIngestLagMs: round(maxIngestLagMs),
      expectedDeliveries: expectedTotal,
      lost: lost.healthy + lost.failing + lost.slow,
      lostByRole: lost,
      duplicated,
      drainedInSeconds,
      stalledMax: Math.max(0, ...windows.map((w) => w.stalledMax)),
      stalledAfterDrain: Object.values(stalledAfterDrain).reduce((n, r) => n + r.pending + r.retrying, 0),
      stalledAfterDrainByRole: stalledAfterDrain,
      healthyP99MsMax: healthyP99s.length ? Math.max(...healthyP99s) : NaN,
      rssSlopeMiBPerHour,
      peakRssMiBByProcess: Object.fromEntries(Object.entries(rss).map(([name, samples]) => [name, Math.max(...samples.map((s) => s.mib))])),
      windows,
    };
  } finally {
    clearInterval(stallTimer);
    clearInterval(rssTimer);
    receiver.status = () => 200;
    receiver.delayMs = () => 0;
    await db.destroy();
  }
}

/**
 * The bench's client side: the API calls a user makes (create webhooks, ingest events), shared by the scenarios.
 */
import { percentile, round, waitWithProgress } from './measure';
import { secretCreatedData } from './payload';
import type { BenchReceiver } from './receiver';
import type { System } from './system';

const log = (line: string) => console.log(line);

/** Whose keys a call uses: the development organization's (tenant A) unless another is given. */
export interface Tenant {
  apiKey: string;
  serviceToken: string;
}

export async function api(sys: System, method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(sys.apiUrl + route, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Creates webhooks on the receiver and waits until each one's ping has arrived and it is active. */
export async function createWebhooks(sys: System, receiver: BenchReceiver, count: number, o: { prefix?: string; event?: string; tenant?: Tenant } = {}): Promise<string[]> {
  const tenant = o.tenant ?? sys.credentials;
  const prefix = o.prefix ?? 'w';
  const pingsBefore = receiver.count((a) => a.event === 'ping');
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(10, count) }, async () => {
      while (next < count) {
        const i = next++;
        const res = await api(sys, 'POST', '/v1/webhooks', tenant.apiKey, { url: `${receiver.url}/${prefix}${i}`, events: [o.event ?? 'secret.created'] });
        if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${JSON.stringify(res.body)}`);
        ids.push(res.body.id);
      }
    }),
  );
  await waitWithProgress('pings', () => receiver.count((a) => a.event === 'ping') - pingsBefore, count, 300_000, log);
  for (const id of ids) {
    for (let tries = 0; (await api(sys, 'GET', `/v1/webhooks/${id}`, tenant.apiKey)).body.status !== 'active'; tries++) {
      if (tries > 200) throw new Error(`webhook ${id} never became active`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return ids;
}

export async function ingestOne(sys: System, id: string, event = 'secret.created', tenant: Tenant = sys.credentials): Promise<void> {
  const res = await api(sys, 'POST', '/v1/events', tenant.serviceToken, { id, event, data: secretCreatedData });
  if (res.status !== 202) throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Ingests events with `concurrency` clients (or at `ratePerSecond`), noting when each was sent. */
export async function ingest(sys: System, count: number, o: { concurrency: number; ratePerSecond?: number; prefix: string; event?: string; onAccepted?: () => void; tenant?: Tenant }) {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  const one = async (i: number) => {
    const id = `evt_${o.prefix}${i}`;
    const t0 = performance.now();
    sentAt.set(id, Date.now());
    await ingestOne(sys, id, o.event, o.tenant);
    latencies.push(performance.now() - t0);
    o.onAccepted?.();
  };
  if (o.ratePerSecond) {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / o.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = one(i).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < count) await one(next++);
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  return { sentAt, seconds, perSecond: round(count / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}


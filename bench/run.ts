/**
 * `npm run bench`: throughput, latency percentiles and memory of the real stack on this machine —
 * embedded PostgreSQL, the Temporal dev server, one worker, the API, a loopback receiver. Bounded:
 * BENCH_EVENTS events (default 300) to BENCH_WEBHOOKS webhooks (default 2), then it stops.
 */
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { Receiver } from '../test/support/receiver';
import { createStack, secretCreatedData } from '../test/support/stack';
import { waitFor } from '../test/support/wait';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main() {
  await globalSetup();
  const stack = await createStack();
  const receiver = await new Receiver(() => ({ status: 200, body: 'ok' })).start();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const org = await stack.createOrg();
    for (let i = 0; i < WEBHOOKS; i++) {
      const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/w${i}`, events: ['secret.created'] });
      if (res.status !== 201) throw new Error(`create webhook: ${res.status}`);
    }
    await waitFor(async () => Number((await stack.db('webhooks').where({ status: 'active' }).count('* as n').first())!.n) === WEBHOOKS, 'pings', 60_000);

    const sentAt = new Map<string, number>();
    const ingestLatency: number[] = [];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < EVENTS) {
          const id = `evt_bench${next++}`;
          const t0 = performance.now();
          sentAt.set(id, Date.now());
          const res = await stack.api('POST', '/v1/events', org.serviceToken, { id, event: 'secret.created', data: secretCreatedData });
          if (res.status !== 202) throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body)}`);
          ingestLatency.push(performance.now() - t0);
        }
      }),
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    const expected = EVENTS * WEBHOOKS;
    const events = () => receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'secret.created');
    await waitFor(() => events().length >= expected, `${expected} deliveries`, 600_000, 100);
    const totalSeconds = (performance.now() - started) / 1000;

    const endToEnd = events().map((r) => r.at - sentAt.get(JSON.parse(r.body).id)!).sort((a, b) => a - b);
    ingestLatency.sort((a, b) => a - b);
    console.log(`\nCloudKeep Webhooks bench — ${EVENTS} events × ${WEBHOOKS} webhooks = ${expected} deliveries, ${CONCURRENCY} concurrent ingest clients`);
    console.log(`ingest      ${(EVENTS / ingestSeconds).toFixed(1)} events/s; latency p50 ${fmt(percentile(ingestLatency, 50))}, p95 ${fmt(percentile(ingestLatency, 95))}, p99 ${fmt(percentile(ingestLatency, 99))}`);
    console.log(`delivery    ${(expected / totalSeconds).toFixed(1)} deliveries/s end to end (${totalSeconds.toFixed(1)} s for all)`);
    console.log(`event→recv  p50 ${fmt(percentile(endToEnd, 50))}, p95 ${fmt(percentile(endToEnd, 95))}, p99 ${fmt(percentile(endToEnd, 99))}, max ${fmt(endToEnd[endToEnd.length - 1])}`);
    console.log(`memory      peak RSS of the API+worker process ${(peakRss / 1048576).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    await receiver.stop();
    await stack.close();
    await globalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

import http from 'node:http';
import client from 'prom-client';
import { StalledDeliveries } from './domain/stalls';

/** One registry for the process: the API serves it at /metrics, and in `npm start` the worker shares the process. */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const httpRequests = new client.Counter({
  name: 'http_requests_total',
  help: 'API requests by route and status',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});

export const deliveryAttempts = new client.Counter({
  name: 'webhook_delivery_attempts_total',
  help: 'Delivery attempts by destination and result',
  labelNames: ['destination', 'result'],
  registers: [registry],
});

export const deliveriesPaced = new client.Counter({
  name: 'webhook_deliveries_paced_total',
  help: "Attempts held back by their webhook's rate limit to wait for a send slot on a durable timer",
  labelNames: ['destination'],
  registers: [registry],
});

export const deliveryAttemptSeconds = new client.Histogram({
  name: 'webhook_delivery_attempt_duration_seconds',
  help: 'Duration of one delivery attempt (request to response excerpt)',
  labelNames: ['destination'],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** What this process knows to be stalled: its attempts failing on our infrastructure, and what its outbox cannot start. */
export const stalledDeliveries = new StalledDeliveries();

export const deliveriesStalled = new client.Gauge({
  name: 'ckw_deliveries_stalled',
  help: 'Deliveries waiting on our own infrastructure (PostgreSQL or Temporal failing), by reason: alert when above 0 for minutes',
  labelNames: ['reason'],
  registers: [registry],
  // Read from memory at scrape time: it holds when PostgreSQL is the part that is down.
  collect() {
    for (const [reason, count] of Object.entries(stalledDeliveries.countsByReason())) this.set({ reason }, count);
  },
});

/**
 * /metrics for a process without the API (a worker on its own): the gauges that only the worker knows, such as its
 * stalled deliveries, must be scrapable where the worker runs. Resolves once listening.
 */
export function serveMetrics(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  at: number;
  /** The event id of our deliveries (the payload's `id`), or a ceiling's own request key. */
  key: string;
  deliveryId: string | undefined;
  event: string | undefined;
  /** When a ceiling's request was started (epoch ms), from its X-Bench-Sent header. */
  sentAt: number | undefined;
}

/**
 * The endpoint every system in the bench posts to: loopback, keep-alive, answering at once with the status the
 * scenario asks for, and noting when each request arrived.
 */
export class BenchReceiver {
  readonly arrivals: Arrival[] = [];
  status: (path: string) => number = () => 200;
  /** Extra response headers by path (e.g. a Retry-After with a 503). */
  headers: (path: string) => Record<string, string> = () => ({});
  /** How long the answer takes by path (a slow receiver); the arrival is noted when the request is in. */
  delayMs: (path: string) => number = () => 0;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      let key = req.headers['x-bench-key'] as string | undefined;
      if (!key) {
        try {
          key = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
        } catch {
          key = '';
        }
      }
      const arrival: Arrival = { at, key, deliveryId: req.headers['x-cloudkeep-delivery'] as string | undefined, event: req.headers['x-cloudkeep-event'] as string | undefined, sentAt: req.headers['x-bench-sent'] ? Number(req.headers['x-bench-sent']) : undefined };
      this.arrivals.push(arrival);
      for (const w of [...this.waiters]) if (w.match(arrival)) w.resolve(arrival);
      res.statusCode = this.status(req.url ?? '/');
      for (const [name, value] of Object.entries(this.headers(req.url ?? '/'))) res.setHeader(name, value);
      const delay = this.delayMs(req.url ?? '/');
      if (delay > 0) setTimeout(() => res.end('ok'), delay);
      else res.end('ok');
    });
  });

  url = '';

  async start(): Promise<this> {
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private waiters = new Set<{ match: (a: Arrival) => boolean; resolve: (a: Arrival) => void }>();

  /** The next arrival that matches, within the deadline. */
  next(match: (a: Arrival) => boolean, deadlineMs: number): Promise<Arrival> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (a: Arrival) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(a);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching request within ${deadlineMs} ms`));
      }, deadlineMs);
      this.waiters.add(waiter);
    });
  }

  count(filter: (a: Arrival) => boolean): number {
    let n = 0;
    for (const a of this.arrivals) if (filter(a)) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

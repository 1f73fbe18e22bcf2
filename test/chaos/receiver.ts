/**
 * A webhook endpoint on loopback that records every request it gets (delivery id, event, when it arrived,
 * when and how it was answered, or that the sender went away first) and answers as the scenario says:
 * at once, after holding the request, or with a 500 while it is "down".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  receiver: string;
  deliveryId: string | null;
  event: string | null;
  eventId: string | null;
  receivedAt: number;
  /** When the answer was fully written; null if the sender's connection closed first. */
  answeredAt: number | null;
  /** When the sender's connection closed before the answer (a crashed sender); null otherwise. */
  abandonedAt: number | null;
  status: number | null;
}

export interface ReceiverBehaviour {
  /** The status to answer with. */
  status: number;
  /** How long to hold the request before answering (a slow endpoint: requests stay in flight). */
  holdMs: number;
}

export class ChaosReceiver {
  readonly requests: ReceivedDelivery[] = [];
  behaviour: ReceiverBehaviour = { status: 200, holdMs: 0 };
  private server: http.Server | null = null;
  private held = new Set<NodeJS.Timeout>();
  private open = 0;
  url = '';

  constructor(readonly name: string) {}

  /** Requests received and not yet answered (held, or their sender has not gone away yet). */
  get inFlight(): number {
    return this.open;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const record: ReceivedDelivery = {
          receiver: this.name,
          deliveryId: header(req, 'x-cloudkeep-delivery'),
          event: header(req, 'x-cloudkeep-event'),
          eventId: eventIdOf(Buffer.concat(chunks).toString('utf8')),
          receivedAt: Date.now(),
          answeredAt: null,
          abandonedAt: null,
          status: null,
        };
        this.requests.push(record);
        this.open++;
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          this.open--;
        };
        const { status, holdMs } = this.behaviour;
        res.once('finish', () => {
          record.answeredAt = Date.now();
          record.status = status;
          settle();
        });
        res.once('close', () => {
          if (record.answeredAt === null) record.abandonedAt = Date.now();
          settle();
        });
        const answer = () => {
          if (!res.destroyed) res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'down');
        };
        if (holdMs <= 0) return answer();
        const timer = setTimeout(() => (this.held.delete(timer), answer()), holdMs);
        this.held.add(timer);
      });
    });
    // Many deliveries arrive at once; the default keep-alive and header timeouts are fine for loopback.
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/${this.name}`;
    return this;
  }

  /** Time of the last request received, or 0. */
  get lastRequestAt(): number {
    return this.requests.length ? this.requests[this.requests.length - 1].receivedAt : 0;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const timer of this.held) clearTimeout(timer);
    this.held.clear();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = null;
  }
}

function header(req: http.IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

function eventIdOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : null;
  } catch {
    return null;
  }
}

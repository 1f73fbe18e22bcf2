import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Responder = (req: ReceivedRequest, index: number) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

/** A real HTTP endpoint on loopback that records what it receives and answers as told. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private server!: http.Server;
  private hung: http.ServerResponse[] = [];
  url = '';

  constructor(public respond: Responder = () => ({ status: 200, body: 'ok' })) {}

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      // Decoded whole: a character whose UTF-8 bytes straddle two chunks would otherwise read as two U+FFFD.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received = { method: req.method!, path: req.url!, headers: req.headers, body, at: Date.now() };
        this.requests.push(received);
        const answer = this.respond(received, this.requests.length - 1);
        if (answer === 'hang') return void this.hung.push(res);
        const send = () => res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Answers every request held with 'hang' so far. */
  release(answer: { status: number; body?: string } = { status: 200, body: 'ok' }): number {
    const held = this.hung.splice(0);
    for (const res of held) res.writeHead(answer.status).end(answer.body ?? '');
    return held.length;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

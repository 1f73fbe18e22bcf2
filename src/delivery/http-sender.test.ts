import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RETRY_AFTER_KEPT_MS, parseRetryAfter, sendWebhookRequest } from './http-sender';
import { AgentPool } from './agent-pool';

const policy = { allowPrivateTargets: true, requireHttps: false };
let server: http.Server;
let url: string;
let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;

beforeAll(async () => {
  server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const send = (timeoutMs?: number) => sendWebhookRequest({ url, headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }, { policy, timeoutMs });

it('keeps at most 4 KiB of a large answer and stops reading it', async () => {
  let written = 0;
  handler = (_req, res) => {
    res.writeHead(200);
    // 8 MiB in 64 KiB chunks; the sender must not wait for all of it.
    const chunk = Buffer.alloc(65536, 'x');
    const pump = () => {
      while (written < 8 * 1048576) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
  const result = await send();
  expect(result).toMatchObject({ status: 200, succeeded: true, error: null });
  expect(result.responseExcerpt).toHaveLength(4096);
  expect(written).toBeLessThan(8 * 1048576);
});

it('sends the exact body and headers, and treats a redirect as a failure without following it', async () => {
  const seen: { body: string; type?: string; length?: string }[] = [];
  handler = (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ body, type: req.headers['content-type'], length: req.headers['content-length'] });
      res.writeHead(307, { Location: '/elsewhere' }).end();
    });
  };
  const result = await send();
  expect(result).toMatchObject({ status: 307, succeeded: false, error: 'Redirect (307) not followed' });
  expect(seen).toEqual([{ body: '{"a":1}', type: 'application/json', length: '7' }]);
});

it('gives up at the deadline when the endpoint does not answer', async () => {
  handler = () => undefined; // never answers
  const result = await send(300);
  expect(result).toMatchObject({ status: null, succeeded: false, error: 'Timed out after 0.3 s' });
  expect(result.durationMs).toBeGreaterThanOrEqual(290);
});

it('reads Retry-After from a 429 as seconds or as an HTTP date', async () => {
  handler = (_req, res) => res.writeHead(429, { 'Retry-After': '120' }).end();
  expect((await send()).retryAfterMs).toBe(120_000);
  expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30_000);
  expect(parseRetryAfter('soon', 0)).toBeNull();
  expect(parseRetryAfter(undefined, 0)).toBeNull();
});

it('keeps what the log can store: NUL in an answer as U+FFFD, a Retry-After beyond 32 bits of milliseconds at the most it holds', async () => {
  handler = (_req, res) => res.writeHead(429, { 'Retry-After': '99999999999999999999' }).end(Buffer.from('busy\u0000now', 'utf8'));
  expect(await send()).toMatchObject({ status: 429, responseExcerpt: 'busy\uFFFDnow', retryAfterMs: MAX_RETRY_AFTER_KEPT_MS });
  expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(MAX_RETRY_AFTER_KEPT_MS);
});

it('rejects, rather than reporting an endpoint failure, a request Node refuses to make (a programming error)', async () => {
  const refused = sendWebhookRequest({ url, headers: { 'X-Broken': 'line\nbreak' }, body: '' }, { policy, timeoutMs: 100 });
  await expect(refused).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_CHAR' });
});

it('reports a refused connection clearly', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const result = await sendWebhookRequest({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '' }, { policy });
  expect(result).toMatchObject({ status: null, succeeded: false, error: 'Connection refused' });
});

describe('with a keep-alive pool', () => {
  it('reuses one connection for consecutive deliveries to an origin', async () => {
    const pool = new AgentPool();
    const sockets = new Set<unknown>();
    handler = (req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.end('ok'));
    };
    for (let i = 0; i < 5; i++) {
      const result = await sendWebhookRequest({ url, headers: {}, body: '{}' }, { policy, agents: pool });
      expect(result).toMatchObject({ status: 200, succeeded: true });
    }
    expect(sockets.size).toBe(1);
    pool.destroy();
  });

  it('sends again on a fresh connection when the server closed the idle one', async () => {
    const pool = new AgentPool();
    let requests = 0;
    handler = (req, res) => {
      requests++;
      req.resume();
      // Answer, then drop the connection behind the client's back without telling it (no Connection: close).
      req.on('end', () => res.end('ok', () => req.socket.destroy()));
    };
    expect(await sendWebhookRequest({ url, headers: {}, body: '{}' }, { policy, agents: pool })).toMatchObject({ succeeded: true });
    const second = await sendWebhookRequest({ url, headers: {}, body: '{}' }, { policy, agents: pool });
    expect(second).toMatchObject({ status: 200, succeeded: true });
    expect(requests).toBe(2);
    pool.destroy();
  });
});

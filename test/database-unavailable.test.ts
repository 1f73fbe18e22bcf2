import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import knexFactory, { Knex } from 'knex';
import pino from 'pino';
import { createApiApp, createServices, listen } from '../src/runtime';
import { freePort } from './support/free-port';
import { createStack, Stack } from './support/stack';

// The API on a database that refuses connections (PostgreSQL down or restarting): every request is answered 503 with
// Retry-After, problem+json, so clients and load balancers retry — not 500, which reads as a bug of ours.
describe('an API whose database does not answer', () => {
  let stack: Stack;
  let db: Knex;
  let server: Server;
  let url: string;
  const lines: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    stack = await createStack();
    const quiet = () => undefined;
    // Nothing listens on this port: every connection is refused at once (knex's own log of it kept out of the output).
    db = knexFactory({ client: 'pg', connection: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/none`, pool: { min: 0, max: 2 }, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(JSON.parse(String(chunk))), done()) }));
    const services = createServices({ db, temporal: stack.client, config: stack.config, secretBox: stack.secretBox, logger });
    const { app } = createApiApp({ db, temporal: stack.client, config: stack.config, secretBox: stack.secretBox, logger, services, publicBaseUrl: 'http://127.0.0.1' });
    server = await listen(app, '127.0.0.1', 0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.destroy();
    await stack?.close();
  });

  it.each([
    ['POST', '/v1/events', { event: 'secret.created', data: {} }],
    ['GET', '/v1/webhooks', undefined],
  ])('%s %s: 503 with Retry-After, and a warning rather than a stack trace', async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: 'Bearer ck_live_whatever', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({ status: 503, type: 'https://cloudkeep.io/problems/unavailable', detail: expect.stringContaining('database') });
    expect(lines.filter((l) => l.msg === 'unhandled error')).toEqual([]);
    expect(lines.some((l) => l.msg === 'database unavailable: answered 503')).toBe(true);
  });
});

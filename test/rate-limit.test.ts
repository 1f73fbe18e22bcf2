/**
 * Rate limits (issue 9, defects 6–8): admin routes per API key id (however the header is spelled), ingest per
 * service token with its own larger budget, and failed authentications per client address. Counted in PostgreSQL
 * (issue 19 item 2), so two API replicas on one database share every count; a PostgreSQL that does not answer
 * leaves each process counting alone.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import knexFactory from 'knex';
import pino from 'pino';
import { SharedLimit } from '../src/api/shared-limit';
import { createDb } from '../src/db/knex';
import { createApiApp, createServices, listen } from '../src/runtime';
import { freePort } from './support/free-port';
import { createStack, Stack } from './support/stack';

const NO_SUBSCRIBERS = { vaultId: 'vlt_rate', vaultName: 'Rate', secretId: 'sec_1', secretKey: 'K' };

async function request(stack: Stack, method: string, path: string, authorization: string | null, body?: unknown) {
  const res = await fetch(stack.apiUrl + path, {
    method,
    headers: { ...(authorization !== null ? { Authorization: authorization } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
}

describe('admin API, per key', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => stack?.close());

  it('answers 429 problem+json past the limit for one key, and not for another', async () => {
    const noisy = await stack.createOrg('Noisy');
    const quiet = await stack.createOrg('Quiet');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await stack.api('GET', '/v1/webhooks', noisy.apiKey)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const limited = await request(stack, 'GET', '/v1/webhooks', `Bearer ${noisy.apiKey}`);
    expect(limited.status).toBe(429);
    expect(limited.contentType).toContain('application/problem+json');
    expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);

    expect((await stack.api('GET', '/v1/webhooks', quiet.apiKey)).status).toBe(200);
    // Operations endpoints are not limited.
    for (let i = 0; i < 5; i++) expect((await stack.api('GET', '/healthz', null)).status).toBe(200);
  });

  it('counts by the key, not by how the Authorization header is spelled', async () => {
    const org = await stack.createOrg('Spelling');
    const spellings = [`Bearer ${org.apiKey}`, `bearer ${org.apiKey}`, `BEARER   ${org.apiKey}`, `Bearer\t${org.apiKey}`, `bEaReR  ${org.apiKey}`];
    const statuses = [];
    for (const authorization of spellings) statuses.push((await request(stack, 'GET', '/v1/webhooks', authorization)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});

describe('failed authentication, per address', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ env: { AUTH_FAILURE_LIMIT_PER_MINUTE: '20' } });
  });
  afterAll(async () => stack?.close());

  it('a flood of unknown keys gets 429 with Retry-After after 20 failures; a valid key still works', async () => {
    const org = await stack.createOrg();
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 40; i++) {
      last = await request(stack, 'GET', '/v1/webhooks', `Bearer ck_admin_guess${i.toString().padStart(40, '0')}`);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(20).fill(429));
    expect(last!.contentType).toContain('application/problem+json');
    expect(Number(last!.retryAfter)).toBeGreaterThanOrEqual(1);
    // Missing and malformed credentials count as failures too.
    expect((await request(stack, 'POST', '/v1/events', null, { event: 'vault.created', data: { vaultId: 'v' } })).status).toBe(429);
    expect((await request(stack, 'GET', '/v1/webhooks', 'Basic dXNlcjpwYXNz')).status).toBe(429);
    // The key that is valid is not locked out by someone else's guessing from the same address.
    expect((await request(stack, 'GET', '/v1/webhooks', `Bearer ${org.apiKey}`)).status).toBe(200);
  });
});

describe('valid keys of the wrong kind, per address', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ env: { AUTH_FAILURE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(async () => stack?.close());

  it('the admin key on ingest and the service token on admin routes are 403 until the failure limit, then 429 with Retry-After', async () => {
    const org = await stack.createOrg();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(stack, 'POST', '/v1/events', `Bearer ${org.apiKey}`, { event: 'secret.updated', data: NO_SUBSCRIBERS })).status);
    for (let i = 0; i < 4; i++) statuses.push((await request(stack, 'GET', '/v1/webhooks', `Bearer ${org.serviceToken}`)).status);
    // One bucket per client address, shared with unknown keys: 5 refusals, then 429 whichever wrong key is used.
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    const limited = await request(stack, 'POST', '/v1/events', `Bearer ${org.apiKey}`, { event: 'secret.updated', data: NO_SUBSCRIBERS });
    expect(limited).toMatchObject({ status: 429, contentType: expect.stringContaining('application/problem+json'), body: { status: 429 } });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    // Each key used where it belongs still works.
    expect((await request(stack, 'GET', '/v1/webhooks', `Bearer ${org.apiKey}`)).status).toBe(200);
    expect((await request(stack, 'POST', '/v1/events', `Bearer ${org.serviceToken}`, { event: 'secret.updated', data: NO_SUBSCRIBERS })).status).toBe(202);
  });
});

describe('ingest, per service token, separate from the admin API', () => {
  it('a burst of 1,000 events is accepted at the defaults, and the admin budget is untouched by it', async () => {
    const stack = await createStack({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const org = await stack.createOrg();
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < 20; batch++) {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => request(stack, 'POST', '/v1/events', `Bearer ${org.serviceToken}`, { event: 'secret.updated', data: NO_SUBSCRIBERS })),
        );
        for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 202: 1000 });
      expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).status).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it('past a small configured burst, ingest answers 429 with Retry-After; another token and the admin key carry on', async () => {
    const stack = await createStack({ env: { INGEST_RATE_LIMIT_PER_SECOND: '0.01', INGEST_RATE_LIMIT_BURST: '5' } });
    try {
      const org = await stack.createOrg();
      const other = await stack.createOrg('Other');
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.updated', data: NO_SUBSCRIBERS })).status);
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
      const limited = await request(stack, 'POST', '/v1/events', `Bearer ${org.serviceToken}`, { event: 'secret.updated', data: NO_SUBSCRIBERS });
      expect(limited).toMatchObject({ status: 429, body: { status: 429 } });
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await stack.api('POST', '/v1/events', other.serviceToken, { event: 'secret.updated', data: NO_SUBSCRIBERS })).status).toBe(202);
      expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).status).toBe(200);
    } finally {
      await stack.close();
    }
  });
});

/** A second API replica on the stack's database: its own app, services and connection pool, as another process has. */
async function secondReplica(stack: Stack): Promise<{ url: string; close: () => Promise<void> }> {
  const db = createDb(stack.config.databaseUrl!);
  const logger = pino({ level: 'silent' });
  const services = createServices({ db, temporal: stack.client, config: stack.config, secretBox: stack.secretBox, logger });
  const { app } = createApiApp({ db, temporal: stack.client, config: stack.config, secretBox: stack.secretBox, logger, services, publicBaseUrl: 'http://127.0.0.1' });
  const server: Server = await listen(app, '127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise((r) => server.close(r));
      await db.destroy();
    },
  };
}

describe('shared by every API replica on one database', () => {
  const LIMIT = 4;
  let stack: Stack;
  let replica: Awaited<ReturnType<typeof secondReplica>>;
  beforeAll(async () => {
    stack = await createStack({
      env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), INGEST_RATE_LIMIT_PER_SECOND: '0.01', INGEST_RATE_LIMIT_BURST: String(LIMIT), AUTH_FAILURE_LIMIT_PER_MINUTE: String(LIMIT) },
    });
    replica = await secondReplica(stack);
  });
  afterAll(async () => {
    await replica?.close();
    await stack?.close();
  });

  /** `count` requests, alternating between the stack's API and the replica; the statuses in order. */
  async function alternate(count: number, method: string, path: string, authorization: (i: number) => string, body?: unknown) {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch((i % 2 === 0 ? stack.apiUrl : replica.url) + path, {
        method,
        headers: { Authorization: authorization(i), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses;
  }

  it('an admin key gets its limit once in total through both replicas, not once through each', async () => {
    const org = await stack.createOrg('Admin');
    expect(await alternate(2 * LIMIT, 'GET', '/v1/webhooks', () => `Bearer ${org.apiKey}`)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
  });

  it('an ingest token gets its burst once in total through both replicas', async () => {
    const org = await stack.createOrg('Ingest');
    const statuses = await alternate(2 * LIMIT, 'POST', '/v1/events', () => `Bearer ${org.serviceToken}`, { event: 'secret.updated', data: NO_SUBSCRIBERS });
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429, 429, 429]);
  });

  it('failed authentications from one address are counted once across both replicas', async () => {
    const statuses = await alternate(2 * LIMIT, 'GET', '/v1/webhooks', (i) => `Bearer ck_admin_guess${String(i).padStart(40, '0')}`);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
  });

  it('a spent key is refused from memory until its window ends: each replica asks PostgreSQL once more at most', async () => {
    const org = await stack.createOrg('Hammer');
    await alternate(5 * LIMIT, 'GET', '/v1/webhooks', () => `Bearer ${org.apiKey}`);
    const key = await stack.db('api_keys').where({ organization_id: org.id, kind: 'admin' }).first('id');
    const row = await stack.db('api_rate_limits').where({ key: `admin:${key.id}` }).first('points');
    // The replica that spent the last point stopped asking; the other asked once, was refused, and stopped too.
    expect(row.points).toBe(LIMIT + 1);
  });
});

describe('when PostgreSQL does not answer', () => {
  it('each process counts the limit alone, and says so in one warning a minute', async () => {
    const lines: { level: number; msg: string; limit: string; err: string }[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(JSON.parse(String(chunk))), done()) }));
    // Nothing listens on this port: every query is refused at once (knex's own log of it kept out of the output).
    const quiet = () => undefined;
    const db = knexFactory({ client: 'pg', connection: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/none`, pool: { min: 0, max: 1 }, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    try {
      const limit = new SharedLimit({ name: 'admin', limit: { points: 3, windowSeconds: 60 }, db, logger });
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await limit.take('key_1'));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
      expect(results[3]).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number) });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ limit: 'admin', msg: expect.stringContaining('PostgreSQL did not answer'), err: expect.stringContaining('ECONNREFUSED') });
    } finally {
      await db.destroy();
    }
  });
});

/**
 * Tenancy and credentials, for every route the API registers: another organization's key finds
 * nothing and changes nothing; each credential kind opens only its own routes; a missing or bad
 * credential is a 401 problem naming the Authorization field.
 */
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { createKey } from '../src/dev/credentials';
import { deliveryWorkflowId } from '../src/workflows/messages';

let stack: Stack;
let a: Org;
let b: Org;
let receiver: Receiver;
/** Org A: one active and one disabled webhook, each with a finished delivery; a finished recovery of the active one. */
const ids = { webhooks: [] as string[], deliveries: [] as string[], recovery: '', apiKeys: [] as string[] };
const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
let bWebhook: string;

type Route = { method: string; path: string; access: string };

/** A valid body for each route that takes one, so that only ownership (or access) can refuse the call. */
function validBody(route: Route): unknown {
  const key = `${route.method.toUpperCase()} ${route.path}`;
  switch (key) {
    case 'POST /v1/webhooks':
      return { url: `${receiver.url}/b`, events: ['secret.created'] };
    case 'PATCH /v1/webhooks/:id':
      return { url: `${receiver.url}/hijacked`, events: ['vault.deleted'], description: 'hijacked' };
    case 'POST /v1/webhooks/:id/rotate-secret':
      return { secret: 'attacker-chosen-secret-0123456789' };
    case 'POST /v1/events':
      return { event: 'secret.created', data: secretCreatedData };
    case 'POST /v1/webhooks/:id/recover':
      return { since: anHourAgo };
    case 'POST /v1/integrations/slack/authorize':
      return { events: ['secret.created'] };
    default:
      return route.method === 'get' || route.method === 'delete' ? undefined : {};
  }
}

/** Org A's ids a route's `:id` can take: every webhook-scoped path gets webhook ids, delivery paths delivery ids. */
function idsFor(route: Route): string[] {
  if (route.path.startsWith('/v1/deliveries/:id')) return ids.deliveries;
  if (route.path.startsWith('/v1/webhooks/:id')) return ids.webhooks;
  if (route.path.startsWith('/v1/api-keys/:id')) return ids.apiKeys;
  throw new Error(`${route.method} ${route.path}: this test does not know what its :id names; teach idsFor()`);
}

/** Every concrete call of a route, with org A's ids substituted. */
function callsOf(route: Route): { method: string; path: string; body: unknown }[] {
  const method = route.method.toUpperCase();
  if (!route.path.includes(':')) return [{ method, path: route.path, body: validBody(route) }];
  // A query the route needs, and org A's recovery for a recovery's own id.
  const query = route.path.endsWith('/recoverable') ? `?since=${encodeURIComponent(anHourAgo)}` : '';
  return idsFor(route).map((id) => ({ method, path: route.path.replace(':id', id).replace(':recoveryId', ids.recovery) + query, body: validBody(route) }));
}

/** Everything the API could change, row by row: every table but knex's own and the rate-limit counters (every request counts). */
async function snapshot() {
  const tables: { table_name: string }[] = (
    await stack.db.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'knex_%' and table_name <> 'api_rate_limits' order by table_name`)
  ).rows;
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['webhooks', 'events', 'deliveries', 'delivery_attempts', 'api_keys']));
  const out: Record<string, unknown[]> = {};
  for (const { table_name } of tables) out[table_name] = await stack.db(table_name).orderByRaw('1, 2');
  return out;
}

async function runIds() {
  return Promise.all(ids.deliveries.map(async (id) => (await stack.client.workflow.getHandle(deliveryWorkflowId(id)).describe()).runId));
}

function expectProblem(res: { status: number; contentType: string; body: any }, status: number, label: string, field?: string) {
  expect({ label, status: res.status, contentType: res.contentType }).toEqual({ label, status, contentType: expect.stringContaining('application/problem+json') });
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String), errors: expect.any(Array) });
  if (field) expect({ label, fields: res.body.errors.map((e: { field: string }) => e.field) }).toEqual({ label, fields: [field] });
}

beforeAll(async () => {
  stack = await createStack({ env: { AUTH_FAILURE_LIMIT_PER_MINUTE: '10000' } }); // hundreds of deliberate 401s from one address
  receiver = await new Receiver().start();
  a = await stack.createOrg('Org A', 'owner@a.test');
  b = await stack.createOrg('Org B', 'owner@b.test');
  ids.apiKeys = (await stack.db('api_keys').where({ organization_id: a.id }).select('id')).map((k: { id: string }) => k.id);
  for (const label of ['a-active', 'a-disabled']) {
    const res = await stack.api('POST', '/v1/webhooks', a.apiKey, { url: `${receiver.url}/${label}`, events: ['secret.created'], description: label });
    expect(res.status).toBe(201);
    ids.webhooks.push(res.body.id);
  }
  const bRes = await stack.api('POST', '/v1/webhooks', b.apiKey, { url: `${receiver.url}/b-own`, events: ['secret.created'] });
  bWebhook = bRes.body.id;
  await waitFor(async () => (await stack.db('webhooks').whereIn('id', [...ids.webhooks, bWebhook]).where({ status: 'active' })).length === 3, 'all three webhooks to be active');
  const ingest = await stack.api('POST', '/v1/events', a.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(ingest.body.deliveries).toBe(2);
  const rows = await waitFor(async () => {
    const all = await stack.db('deliveries').where({ organization_id: a.id });
    return all.length === 4 && all.every((d) => d.status === 'succeeded') ? all : null;
  }, "org A's pings and deliveries to succeed");
  ids.deliveries = rows.filter((d: { event_type: string }) => d.event_type === 'secret.created').map((d: { id: string }) => d.id);
  const recovery = await stack.api('POST', `/v1/webhooks/${ids.webhooks[0]}/recover`, a.apiKey, { since: anHourAgo });
  expect(recovery.status).toBe(202);
  ids.recovery = recovery.body.recoveryId;
  await waitFor(async () => (await stack.db('webhook_recoveries').where({ id: ids.recovery }).first()).status === 'completed', "org A's recovery to complete");
  await stack.db('webhooks').where({ id: ids.webhooks[1] }).update({ status: 'disabled', status_reason: 'Failing for 3 consecutive days' });
  // Every run closed: nothing of A's moves on its own while we compare.
  await Promise.all(rows.map((d: { id: string }) => stack.client.workflow.getHandle(deliveryWorkflowId(d.id)).result()));
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

const adminRoutes = () => stack.routes.filter((r) => r.access === 'admin');
const serviceRoutes = () => stack.routes.filter((r) => r.access === 'service');

it('registers the routes this test walks through', () => {
  expect(adminRoutes().length).toBeGreaterThanOrEqual(10);
  expect(serviceRoutes().map((r) => `${r.method} ${r.path}`)).toContain('post /v1/events');
  // Every admin route with an id takes one this test knows (idsFor throws otherwise).
  for (const route of adminRoutes()) if (route.path.includes(':')) expect(idsFor(route).length).toBeGreaterThan(0);
  const collection = adminRoutes().filter((r) => !r.path.includes(':')).map((r) => `${r.method} ${r.path}`);
  expect(collection).toEqual(expect.arrayContaining(['get /v1/webhooks', 'post /v1/webhooks']));
});

it("org B's key on org A's webhook and delivery ids answers 404 on every admin route and changes nothing", async () => {
  const before = await snapshot();
  const runsBefore = await runIds();
  const requestsBefore = receiver.requests.length;
  let calls = 0;
  for (const route of adminRoutes().filter((r) => r.path.includes(':id'))) {
    for (const call of callsOf(route)) {
      const res = await stack.api(call.method, call.path, b.apiKey, call.body);
      expectProblem(res, 404, `${call.method} ${call.path}`);
      expect(JSON.stringify(res.body)).not.toContain('a-active');
      calls++;
    }
  }
  expect(calls).toBeGreaterThanOrEqual(2 * adminRoutes().filter((r) => r.path.includes(':id')).length);
  expect(await snapshot()).toEqual(before);
  expect(await runIds()).toEqual(runsBefore);
  expect(receiver.requests.length).toBe(requestsBefore);

  // The same calls with A's own key are not 404: the ids are real, only ownership hid them.
  const read = await stack.api('GET', `/v1/webhooks/${ids.webhooks[0]}`, a.apiKey);
  expect(read.status).toBe(200);
  expect((await stack.api('GET', `/v1/deliveries/${ids.deliveries[0]}`, a.apiKey)).status).toBe(200);
});

it("org B's list shows only its own webhooks, and what B creates lands in B", async () => {
  const list = await stack.api('GET', '/v1/webhooks?limit=100', b.apiKey);
  expect(list.status).toBe(200);
  expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([bWebhook]);
  const ownList = await stack.api('GET', '/v1/webhooks?limit=100', a.apiKey);
  expect(ownList.body.data.map((w: { id: string }) => w.id).sort()).toEqual([...ids.webhooks].sort());

  const aBefore = await stack.db('webhooks').where({ organization_id: a.id }).orderBy('id');
  const created = await stack.api('POST', '/v1/webhooks', b.apiKey, validBody({ method: 'post', path: '/v1/webhooks', access: 'admin' }));
  expect(created.status).toBe(201);
  expect((await stack.db('webhooks').where({ id: created.body.id }).first()).organization_id).toBe(b.id);
  expect(await stack.db('webhooks').where({ organization_id: a.id }).orderBy('id')).toEqual(aBefore);

  // B's events reach B's webhooks only.
  const ingest = await stack.api('POST', '/v1/events', b.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(ingest.status).toBe(202);
  const fanned = await stack.db('deliveries').where({ event_id: ingest.body.id });
  expect(fanned.map((d: { organization_id: string }) => d.organization_id).every((o: string) => o === b.id)).toBe(true);
  expect(fanned.map((d: { webhook_id: string }) => d.webhook_id).some((w: string) => ids.webhooks.includes(w))).toBe(false);
  // Let B's pings and deliveries finish, so the next comparisons see a still database.
  await waitFor(async () => {
    const open = await stack.db('deliveries').where({ organization_id: b.id }).whereIn('status', ['pending', 'retrying']);
    return open.length === 0;
  }, "org B's deliveries to finish");
  const bDeliveries = await stack.db('deliveries').where({ organization_id: b.id });
  await Promise.all(bDeliveries.map((d: { id: string }) => stack.client.workflow.getHandle(deliveryWorkflowId(d.id)).result()));
});

it('the service token is refused (403) on every admin route, and an admin key on event ingest; nothing changes', async () => {
  const before = await snapshot();
  const runsBefore = await runIds();
  for (const route of adminRoutes()) {
    for (const call of callsOf(route)) {
      const res = await stack.api(call.method, call.path, a.serviceToken, call.body);
      expectProblem(res, 403, `service token: ${call.method} ${call.path}`, 'Authorization');
    }
  }
  for (const route of serviceRoutes()) {
    for (const call of callsOf(route)) {
      const res = await stack.api(call.method, call.path, a.apiKey, call.body);
      expectProblem(res, 403, `admin key: ${call.method} ${call.path}`, 'Authorization');
    }
  }
  expect(await snapshot()).toEqual(before);
  expect(await runIds()).toEqual(runsBefore);
});

it('a missing, malformed, unknown or revoked credential is a 401 on every route that needs one; nothing changes', async () => {
  const revoked = await createKey(stack.db, a.id, 'admin', 'revoked key');
  await stack.db('api_keys').where({ name: 'revoked key', organization_id: a.id }).update({ revoked_at: new Date() });
  const revokedService = await createKey(stack.db, a.id, 'service', 'revoked ingest');
  await stack.db('api_keys').where({ name: 'revoked ingest', organization_id: a.id }).update({ revoked_at: new Date() });
  const before = await snapshot();

  const raw = async (method: string, path: string, authorization: string | null, body: unknown) => {
    const res = await fetch(stack.apiUrl + path, {
      method,
      headers: { ...(authorization !== null ? { Authorization: authorization } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Parsed here, not by res.json(): fetch's objects come from another realm, which expect.any(Array) rejects.
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: JSON.parse(await res.text()) };
  };
  // 'optional' routes take no credential, but a bad one given is still refused.
  const guarded = stack.routes.filter((r) => r.access === 'admin' || r.access === 'service' || r.access === 'optional');
  expect(guarded.length).toBeGreaterThan(adminRoutes().length);
  for (const route of guarded) {
    const credentials: [string, string | null][] = [
      ['missing', null],
      ['empty', ''],
      ['not bearer', `Basic ${Buffer.from('user:pass').toString('base64')}`],
      ['bearer without token', 'Bearer'],
      ['unknown admin key', 'Bearer ck_admin_thisKeyDoesNotExist0123456789abcdefghijk'],
      ['unknown token', 'Bearer nonsense'],
      ['revoked', `Bearer ${route.access === 'admin' ? revoked : revokedService}`],
    ];
    for (const call of callsOf(route)) {
      for (const [label, authorization] of credentials) {
        if (route.access === 'optional' && (label === 'missing' || label === 'empty')) continue;
        const res = await raw(call.method, call.path, authorization, call.body);
        expectProblem(res, 401, `${label}: ${call.method} ${call.path}`, 'Authorization');
      }
    }
  }
  expect(await snapshot()).toEqual(before);
});

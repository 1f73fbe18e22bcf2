/**
 * The OpenAPI document is valid 3.1 and describes exactly the routes the API serves; and every route
 * refuses bad input with an application/problem+json naming the field, storing nothing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { buildOpenApiDocument } from '../src/api/openapi-document';

type Json = any;
type Route = { method: string; path: string; access: string };
type BadCase = { label: string; method: string; path: string; token: string | null; body?: unknown; rawBody?: string; status: number[]; field: string };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Validates with @seriousme/openapi-schema-validator (ESM only, so in a child Node process). */
function validateOpenApi(document: unknown): Promise<{ valid: boolean; version?: string; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    process.stdin.on('data', (c) => (text += c));
    process.stdin.on('end', async () => {
      const validator = new Validator();
      const res = await validator.validate(JSON.parse(text));
      process.stdout.write(JSON.stringify({ valid: res.valid, version: validator.version, errors: res.errors }));
    });`;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: path.resolve(__dirname, '..'), timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(document));
  });
}

let stack: Stack;
let org: Org;
let receiver: Receiver;
let document: Json;
const ids = { webhook: '', delivery: '' };

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  receiver = await new Receiver().start();
  const res = await stack.api('GET', '/openapi.json', null);
  expect(res.status).toBe(200);
  document = res.body;
  // One real webhook and delivery, so that a route that wrongly accepted bad input would have something to change.
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/hook`, events: ['secret.created'] });
  ids.webhook = created.body.id;
  const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  const rows = await waitFor(async () => {
    const all = await stack.db('deliveries').where({ webhook_id: ids.webhook });
    return all.length === 2 && all.every((d) => d.status === 'succeeded') ? all : null;
  }, 'the ping and the delivery to succeed');
  ids.delivery = rows.find((d: { event_id: string }) => d.event_id === ingest.body.id).id;
  await Promise.all(rows.map((d: { id: string }) => stack.client.workflow.getHandle(deliveryWorkflowId(d.id)).result()));
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

/** Every table's rows but knex's own and the rate-limit counters (every request counts): a refused request must leave all of them as they were. */
async function snapshot() {
  const tables: { table_name: string }[] = (
    await stack.db.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'knex_%' and table_name <> 'api_rate_limits' order by table_name`)
  ).rows;
  const out: Record<string, unknown[]> = {};
  for (const { table_name } of tables) out[table_name] = await stack.db(table_name).orderByRaw('1, 2');
  return out;
}

/** Every operation in the document, labelled `method path`. */
const operations = () => Object.entries<Json>(document.paths).flatMap(([p, ops]) => Object.entries<Json>(ops).filter(([m]) => METHODS.includes(m)).map(([m, op]) => ({ label: `${m} ${p}`, op })));
const openapiPath = (route: Route) => route.path.replace(/:(\w+)/g, '{$1}');
const operationOf = (route: Route) => document.paths[openapiPath(route)]?.[route.method];
const resolve = (schema: Json): Json => (schema?.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()]) : schema);

function tokenFor(route: Route): string | null {
  return route.access === 'admin' ? org.apiKey : route.access === 'service' ? org.serviceToken : null;
}

/** A body each route accepts, so a bad case differs from it in one field only. */
function validBody(route: Route): Record<string, unknown> {
  switch (`${route.method} ${route.path}`) {
    case 'post /v1/webhooks':
      return { url: `${receiver.url}/new`, events: ['secret.created'] };
    case 'patch /v1/webhooks/:id':
      return { description: 'changed' };
    case 'post /v1/events':
      return { event: 'secret.created', data: secretCreatedData };
    case 'post /v1/integrations/slack/authorize':
      return { events: ['secret.created'] };
    case 'post /v1/webhooks/:id/recover':
      return { since: new Date(Date.now() - 3_600_000).toISOString() };
    default:
      return {};
  }
}

/** A value of the wrong JSON type for a schema, or undefined when any value is allowed. */
function wrongTypeFor(schema: Json): unknown {
  const s = resolve(schema);
  const types: string[] = Array.isArray(s?.type) ? s.type : s?.type ? [s.type] : s?.enum ? ['string'] : [];
  if (types.length === 0) return undefined;
  if (!types.includes('number') && !types.includes('integer')) return 12345;
  return 'not-a-number';
}

function concretePath(route: Route, pathOverrides: Record<string, string> = {}): string {
  return route.path.replace(/:(\w+)/g, (_m, name: string) => pathOverrides[name] ?? (route.path.startsWith('/v1/deliveries') ? ids.delivery : ids.webhook));
}

/** Bad inputs for a route, read off its own OpenAPI operation: each parameter and body field, wrong. */
function genericCases(route: Route): BadCase[] {
  const op = operationOf(route);
  const method = route.method.toUpperCase();
  const token = tokenFor(route);
  const base = { method, token };
  const cases: BadCase[] = [];
  const query = (op.parameters ?? []).filter((p: Json) => p.in === 'query');
  const requiredQuery = Object.fromEntries(query.filter((p: Json) => p.required).map((p: Json) => [p.name, 'x']));
  const qs = (extra: Record<string, string>) => '?' + new URLSearchParams({ ...requiredQuery, ...extra }).toString();

  for (const p of op.parameters ?? []) {
    const s = p.schema ?? {};
    if (p.in === 'path' && s.maxLength) {
      cases.push({ ...base, label: `path ${p.name} too long`, path: concretePath(route, { [p.name]: 'x'.repeat(s.maxLength + 1) }), body: route.method === 'get' ? undefined : validBody(route), status: [400], field: `path.${p.name}` });
    }
    if (p.in === 'query') {
      const at = concretePath(route);
      if (s.type === 'integer') {
        cases.push({ ...base, label: `query ${p.name} not a number`, path: at + qs({ [p.name]: 'abc' }), status: [400], field: `query.${p.name}` });
        if (s.maximum !== undefined) cases.push({ ...base, label: `query ${p.name} too large`, path: at + qs({ [p.name]: String(s.maximum + 1) }), status: [400], field: `query.${p.name}` });
      }
      if (s.enum) cases.push({ ...base, label: `query ${p.name} not one of its values`, path: at + qs({ [p.name]: 'no-such-value' }), status: [400], field: `query.${p.name}` });
      if (s.type === 'string' && s.maxLength) cases.push({ ...base, label: `query ${p.name} too long`, path: at + qs({ [p.name]: 'x'.repeat(s.maxLength + 1) }), status: [400], field: `query.${p.name}` });
    }
  }
  // Unknown query parameters are refused everywhere but Slack's redirect, whose extra parameters are Slack's business.
  if (route.access !== 'optional') {
    cases.push({ ...base, label: 'unknown query parameter', path: concretePath(route) + qs({ unexpected: '1' }), status: [400], field: 'query.unexpected' });
  }

  const bodySchema = resolve(op.requestBody?.content?.['application/json']?.schema);
  const at = concretePath(route);
  if (bodySchema) {
    const valid = validBody(route);
    for (const [name, schema] of Object.entries<Json>(bodySchema.properties ?? {})) {
      const wrong = wrongTypeFor(schema);
      if (wrong !== undefined) cases.push({ ...base, label: `body ${name} of the wrong type`, path: at, body: { ...valid, [name]: wrong }, status: [400], field: `body.${name}` });
    }
    for (const name of bodySchema.required ?? []) {
      const rest = { ...valid };
      delete rest[name];
      cases.push({ ...base, label: `body ${name} missing`, path: at, body: rest, status: [400], field: `body.${name}` });
    }
    if (bodySchema.additionalProperties === false) {
      cases.push({ ...base, label: 'unknown body field', path: at, body: { ...valid, unexpectedField: true }, status: [400], field: 'body.unexpectedField' });
    }
    cases.push({ ...base, label: 'body an array', path: at, body: [valid], status: [400], field: 'body' });
    cases.push({ ...base, label: 'body a string', path: at, rawBody: '"just a string"', status: [400], field: 'body' });
  }
  if (!bodySchema && route.method !== 'get') {
    cases.push({ ...base, label: 'a body where none is taken', path: at, body: { unexpectedField: true }, status: [400], field: 'body.unexpectedField' });
  }
  if (route.method !== 'get') {
    cases.push({ ...base, label: 'malformed JSON', path: at, rawBody: '{"url": "https://example.com", "events": [', status: [400], field: 'body' });
  }
  return cases;
}

/** What the generic cases cannot know: the rules inside a field. */
function specificCases(): BadCase[] {
  const w = `/v1/webhooks/${ids.webhook}`;
  const admin = org.apiKey;
  const longUrl = `https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`;
  expect(longUrl).toHaveLength(2049);
  const create = (label: string, body: Record<string, unknown>, field: string): BadCase => ({ label: `create: ${label}`, method: 'POST', path: '/v1/webhooks', token: admin, body: { url: `${receiver.url}/x`, events: ['secret.created'], ...body }, status: [400], field });
  const update = (label: string, body: unknown, field: string): BadCase => ({ label: `update: ${label}`, method: 'PATCH', path: w, token: admin, body, status: [400], field });
  const ingest = (label: string, body: unknown, field: string, status = 400, token: string | null = org.serviceToken): BadCase => ({ label: `ingest: ${label}`, method: 'POST', path: '/v1/events', token, body, status: [status], field });
  return [
    create('URL over 2048 characters', { url: longUrl }, 'body.url'),
    create('URL not absolute', { url: '/relative/hook' }, 'body.url'),
    create('URL not http(s)', { url: 'ftp://example.com/hook' }, 'body.url'),
    create('no events', { events: [] }, 'body.events'),
    create('unsupported event', { events: ['secret.read'] }, 'body.events.0'),
    create('ping is not subscribable', { events: ['secret.created', 'ping'] }, 'body.events.1'),
    create('unknown destination', { destination: 'teams' }, 'body.destination'),
    create('secret too short', { secret: 'short' }, 'body.secret'),
    create('empty vault filter', { vaultIds: [] }, 'body.vaultIds'),
    create('description too long', { description: 'd'.repeat(501) }, 'body.description'),
    update('URL over 2048 characters', { url: longUrl }, 'body.url'),
    update('no events', { events: [] }, 'body.events'),
    update('unsupported event', { events: ['vault.exploded'] }, 'body.events.0'),
    update('nothing to change', {}, 'body'),
    update('a field that cannot change', { destination: 'slack' }, 'body.destination'),
    create('Standard Webhooks on a Slack webhook', { url: 'https://hooks.slack.com/services/T1/B2/xyz', destination: 'slack', standardWebhooks: true }, 'body.standardWebhooks'),
    create('Standard Webhooks with a secret verifiers cannot decode', { secret: 'my-own-secret-that-is-not-base64', standardWebhooks: true }, 'body.secret'),
    { label: 'recover: since in the future', method: 'POST', path: `${w}/recover`, token: admin, body: { since: new Date(Date.now() + 86_400_000).toISOString() }, status: [400], field: 'body.since' },
    { label: 'recover: since not ISO 8601', method: 'POST', path: `${w}/recover`, token: admin, body: { since: 'last week' }, status: [400], field: 'body.since' },
    { label: 'recover: unknown status', method: 'POST', path: `${w}/recover`, token: admin, body: { since: '2026-01-01T00:00:00Z', statuses: ['failed', 'cancelled'] }, status: [400], field: 'body.statuses.1' },
    { label: 'recoverable: since in the future', method: 'GET', path: `${w}/recoverable?since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`, token: admin, status: [400], field: 'query.since' },
    { label: 'recoverable: unknown status', method: 'GET', path: `${w}/recoverable?since=2026-01-01T00:00:00Z&statuses=skipped,retrying`, token: admin, status: [400], field: 'query.statuses' },
    { label: 'rotate: secret with spaces', method: 'POST', path: `${w}/rotate-secret`, token: admin, body: { secret: 'a secret with spaces in it 0123' }, status: [400], field: 'body.secret' },
    { label: 'list: cursor not ours', method: 'GET', path: '/v1/webhooks?cursor=bm90LWEtY3Vyc29y', token: admin, status: [400], field: 'query.cursor' },
    { label: 'log: cursor not ours', method: 'GET', path: `${w}/deliveries?cursor=garbage`, token: admin, status: [400], field: 'query.cursor' },
    ingest('unknown event type', { event: 'secret.read', data: secretCreatedData }, 'body.event'),
    ingest('ping cannot be ingested', { event: 'ping', data: { webhookId: ids.webhook, message: 'hi' } }, 'body.event'),
    ingest('missing vaultId', { event: 'secret.created', data: { ...secretCreatedData, vaultId: undefined } }, 'data.vaultId'),
    ingest('unknown data field', { event: 'vault.created', data: { vaultId: 'vlt_1', colour: 'red' } }, 'data.colour'),
    ingest('a secret value in data', { event: 'secret.updated', data: { ...secretCreatedData, value: 'sk_live_TOPSECRET' } }, 'data.value', 422),
    ingest('a secret value nested in data', { event: 'secret.created', data: { ...secretCreatedData, actor: { id: 'usr_1', secretValue: 'sk_live_TOPSECRET' } } }, 'data.actor.secretValue', 422),
    ingest('timestamp not ISO 8601', { event: 'secret.created', timestamp: 'yesterday', data: secretCreatedData }, 'body.timestamp'),
    ingest('id not evt_…', { id: 'event-1', event: 'secret.created', data: secretCreatedData }, 'body.id'),
    ingest('data not an object', { event: 'secret.created', data: 'vlt_8xK2mN' }, 'body.data'),
    ingest('no credential', { event: 'secret.created', data: secretCreatedData }, 'Authorization', 401, null),
    ingest('unknown credential', { event: 'secret.created', data: secretCreatedData }, 'Authorization', 401, 'ck_svc_doesNotExist'),
    ingest('an admin key instead of the service token', { event: 'secret.created', data: secretCreatedData }, 'Authorization', 403, admin),
    { label: 'ingest: malformed JSON', method: 'POST', path: '/v1/events', token: org.serviceToken, rawBody: '{"event": "secret.created", "data": {', status: [400], field: 'body' },
    { label: 'ingest: body over 256 KiB', method: 'POST', path: '/v1/events', token: org.serviceToken, body: { event: 'secret.created', data: { ...secretCreatedData, vaultName: 'v'.repeat(300_000) } }, status: [413], field: 'body' },
  ];
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (and the validator does reject a broken one)', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document).toEqual(JSON.parse(JSON.stringify(stack.openapi)));
    const result = await validateOpenApi(document);
    expect(result.errors ?? null).toBeNull();
    expect(result).toMatchObject({ valid: true, version: '3.1' });

    const broken = JSON.parse(JSON.stringify(document));
    delete broken.info;
    broken.paths['/v1/webhooks'].get.responses = 'none';
    expect((await validateOpenApi(broken)).valid).toBe(false);
  });

  it('documents exactly the registered routes, each with its credential', () => {
    const served = stack.routes.map((r) => `${r.method} ${openapiPath(r)}`).sort();
    const documented = Object.entries<Json>(document.paths)
      .flatMap(([p, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m} ${p}`))
      .sort();
    expect(documented).toEqual(served);
    expect(new Set(served).size).toBe(served.length);
    expect(served).toEqual(expect.arrayContaining(['post /v1/events', 'post /v1/webhooks', 'get /v1/deliveries/{id}', 'post /v1/deliveries/{id}/redeliver']));

    for (const route of stack.routes) {
      const op = operationOf(route);
      const label = `${route.method} ${route.path}`;
      const security = route.access === 'admin' ? [{ apiKey: [] }] : route.access === 'service' ? [{ serviceToken: [] }] : [];
      expect({ label, security: op.security ?? [] }).toEqual({ label, security });
      const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]).sort();
      expect({ label, pathParams: (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name).sort() }).toEqual({ label, pathParams });
      expect({ label, problem: op.responses['400']?.content?.['application/problem+json'] !== undefined }).toEqual({ label, problem: true });
    }
  });
});

describe('the contract tools generate from', () => {
  /** The names generated clients call operations by: renaming one breaks every client, so this list changes on purpose only. */
  const OPERATION_IDS = {
    'post /v1/events': 'ingestEvent',
    'get /v1/event-types': 'listEventTypes',
    'post /v1/webhooks': 'createWebhook',
    'get /v1/webhooks': 'listWebhooks',
    'get /v1/webhooks/{id}': 'getWebhook',
    'patch /v1/webhooks/{id}': 'updateWebhook',
    'delete /v1/webhooks/{id}': 'deleteWebhook',
    'post /v1/webhooks/{id}/test': 'testWebhook',
    'post /v1/webhooks/{id}/enable': 'enableWebhook',
    'post /v1/webhooks/{id}/rotate-secret': 'rotateWebhookSecret',
    'get /v1/webhooks/{id}/deliveries': 'listDeliveries',
    'get /v1/deliveries/{id}': 'getDelivery',
    'post /v1/deliveries/{id}/redeliver': 'redeliverDelivery',
    'get /v1/webhooks/{id}/recoverable': 'countRecoverableDeliveries',
    'post /v1/webhooks/{id}/recover': 'recoverDeliveries',
    'get /v1/webhooks/{id}/recoveries/{recoveryId}': 'getRecovery',
    'get /v1/api-keys': 'listApiKeys',
    'delete /v1/api-keys/{id}': 'revokeApiKey',
    'post /v1/integrations/slack/authorize': 'authorizeSlack',
    'get /v1/integrations/slack/callback': 'completeSlackAuthorization',
  };

  it('is what `npm run lint:api` and the client generator build offline (no database, no Temporal), but for the server URL', () => {
    const offline = JSON.parse(JSON.stringify(buildOpenApiDocument('http://127.0.0.1')));
    expect(offline).toEqual({ ...document, servers: [{ url: 'http://127.0.0.1' }] });
  });

  it('names every operation with its stable operationId, a summary and a description, under declared tags', () => {
    expect(Object.fromEntries(operations().map(({ label, op }) => [label, op.operationId]))).toEqual(OPERATION_IDS);
    const declared = document.tags.map((t: Json) => t.name);
    for (const tag of document.tags) expect({ tag: tag.name, described: typeof tag.description === 'string' && tag.description.length > 20 }).toEqual({ tag: tag.name, described: true });
    for (const { label, op } of operations()) {
      const shape = { label, camelCase: /^[a-z][a-zA-Z]+$/.test(op.operationId), summary: typeof op.summary === 'string' && op.summary.length > 0, description: typeof op.description === 'string' && op.description.length > op.summary.length, tagsDeclared: op.tags.every((t: string) => declared.includes(t)) };
      expect(shape).toEqual({ label, camelCase: true, summary: true, description: true, tagsDeclared: true });
    }
    expect(document.info.contact).toEqual({ name: expect.any(String), url: expect.stringMatching(/^https:\/\//) });
    expect(document.info.license).toEqual({ name: expect.any(String) });
  });
});

describe('bad input', () => {
  it('every route answers each bad input with a problem naming the field, and nothing is stored', async () => {
    const cases = [...stack.routes.flatMap(genericCases), ...specificCases()];
    // Each route gets some cases of its own (routes without any input at least get malformed JSON or a too-long id).
    for (const route of stack.routes) {
      const own = cases.filter((c) => c.method === route.method.toUpperCase() && c.path.split('?')[0].split('/').length === route.path.split('/').length && new RegExp(`^${route.path.replace(/:\w+/g, '[^/]+')}$`).test(c.path.split('?')[0]));
      expect({ route: `${route.method} ${route.path}`, hasCases: own.length > 0 }).toEqual({ route: `${route.method} ${route.path}`, hasCases: true });
    }
    const before = await snapshot();
    const requestsBefore = receiver.requests.length;
    const failures: unknown[] = [];
    for (const c of cases) {
      const res = await stack.api(c.method, c.path, c.token, c.body, c.rawBody);
      const fields = Array.isArray(res.body?.errors) ? res.body.errors.map((e: { field: string }) => e.field) : null;
      const ok = c.status.includes(res.status) && res.contentType.startsWith('application/problem+json') && fields?.includes(c.field) && res.body.status === res.status && typeof res.body.detail === 'string';
      if (!ok) failures.push({ case: c.label, request: `${c.method} ${c.path.slice(0, 120)}`, expected: { status: c.status, field: c.field }, got: { status: res.status, contentType: res.contentType, body: res.body } });
      // An error never echoes a secret value back.
      expect(JSON.stringify(res.body)).not.toContain('sk_live_TOPSECRET');
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(80);
    expect(await snapshot()).toEqual(before);
    expect(receiver.requests.length).toBe(requestsBefore);
  });

  it('the same inputs, made valid, are accepted (the cases are bad for the reason named, not another)', async () => {
    const ok = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`, events: ['secret.created'], destination: 'generic' });
    expect(ok.status).toBe(201);
    await stack.api('DELETE', `/v1/webhooks/${ok.body.id}`, org.apiKey);
    const ingested = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_openapi_valid', event: 'vault.created', timestamp: '2025-06-11T10:30:00Z', data: { vaultId: 'vlt_9' } });
    expect(ingested.status).toBe(202);
    expect(ingested.body).toMatchObject({ id: 'evt_openapi_valid', duplicate: false });
  });
});

// Last: these requests deliver, which the bad-input tests (nothing sent, nothing stored) must not see.
describe('request body examples', () => {
  it('shows an example of every request body, and the API accepts each one', async () => {
    const withBody = operations().filter(({ op }) => op.requestBody);
    expect(withBody.map((o) => o.label).sort()).toEqual(['patch /v1/webhooks/{id}', 'post /v1/events', 'post /v1/integrations/slack/authorize', 'post /v1/webhooks', 'post /v1/webhooks/{id}/recover', 'post /v1/webhooks/{id}/rotate-secret']);
    // Sent as shown (the recovery's since moved into the retention window, the webhook URL to the receiver): none is refused.
    const { body: fresh } = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/examples`, events: ['secret.created'] });
    for (const { label, op } of withBody) {
      const example = op.requestBody.content['application/json'].example;
      expect({ label, hasExample: example !== undefined }).toEqual({ label, hasExample: true });
      const [method, route] = label.split(' ');
      const sent = route === '/v1/webhooks' ? { ...example, url: `${receiver.url}/example` } : route.endsWith('/recover') ? { ...example, since: new Date(Date.now() - 3_600_000).toISOString() } : example;
      const token = route === '/v1/events' ? org.serviceToken : org.apiKey;
      const res = await stack.api(method.toUpperCase(), route.replace('{id}', fresh.id), token, sent);
      // Slack answers 503 here: this stack has no Slack app configured, which the body has nothing to do with.
      const accepted = route.includes('/slack/') ? res.status === 503 && !res.body.errors?.length : res.status < 300;
      expect({ label, status: res.status, accepted }).toEqual({ label, status: res.status, accepted: true });
    }
    await stack.api('DELETE', `/v1/webhooks/${fresh.id}`, org.apiKey);
  });
});

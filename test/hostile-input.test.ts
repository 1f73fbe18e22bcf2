/**
 * Hostile input from outside (issue 9, defects 4, 5, 10 and the 405 of 9): NUL characters, deep nesting,
 * invalid UTF-8, wrong media types, duplicate keys, unauthenticated bodies and undeclared methods are each a
 * clear 4xx problem naming the field, never a 500, and nothing is written.
 */
import { createStack, Org, secretCreatedData, Stack } from './support/stack';

let stack: Stack;
let org: Org;
let webhookId: string;

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: 'http://127.0.0.1:9/hook', events: ['secret.created'] });
  expect(created.status).toBe(201);
  webhookId = created.body.id;
});
afterAll(async () => stack?.close());

/** A request with exactly these bytes and headers. */
async function raw(method: string, path: string, options: { token?: string | null; contentType?: string | null; body?: string | Buffer } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.contentType) headers['Content-Type'] = options.contentType;
  const res = await fetch(stack.apiUrl + path, { method, headers, body: options.body as BodyInit | undefined });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', allow: res.headers.get('allow'), body: text ? JSON.parse(text) : null };
}

async function counts() {
  const tables = ['webhooks', 'events', 'deliveries', 'api_keys', 'slack_authorizations'];
  const out: Record<string, unknown> = {};
  for (const table of tables) {
    if (await stack.db.schema.hasTable(table)) out[table] = Number((await stack.db(table).count<{ count: string }[]>('* as count'))[0].count);
  }
  // What a request could change on the webhook (its status moves on its own as its ping fails).
  const webhooks = await stack.db('webhooks').orderBy('id').select('display_url', 'description', 'vault_ids', 'events', 'secret_ciphertext');
  return { ...out, webhooks };
}

function expectProblem(res: { status: number; contentType: string; body: any }, status: number, field: string) {
  expect({ status: res.status, contentType: res.contentType, fields: res.body?.errors?.map((e: { field: string }) => e.field) }).toEqual({
    status,
    contentType: expect.stringContaining('application/problem+json'),
    fields: expect.arrayContaining([field]),
  });
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

describe('NUL characters (PostgreSQL cannot store them)', () => {
  const NUL = '\u0000';
  it('are a 400 naming the field, in every place a string comes in, and nothing is stored', async () => {
    const before = await counts();
    const w = `/v1/webhooks/${webhookId}`;
    const cases: [string, string, string, unknown, string][] = [
      ['POST', '/v1/webhooks', org.apiKey, { url: 'https://example.com/hook', events: ['secret.created'], vaultIds: [`vlt${NUL}1`] }, 'body.vaultIds.0'],
      ['POST', '/v1/webhooks', org.apiKey, { url: 'https://example.com/hook', events: ['secret.created'], description: `a${NUL}b` }, 'body.description'],
      ['POST', '/v1/webhooks', org.apiKey, { url: `https://example.com/${NUL}`, events: ['secret.created'] }, 'body.url'],
      ['PATCH', w, org.apiKey, { description: `a${NUL}b` }, 'body.description'],
      ['PATCH', w, org.apiKey, { url: `https://example.com/${NUL}` }, 'body.url'],
      ['PATCH', w, org.apiKey, { vaultIds: [NUL] }, 'body.vaultIds.0'],
      ['POST', `${w}/rotate-secret`, org.apiKey, { secret: `${'s'.repeat(30)}${NUL}` }, 'body.secret'],
      ['POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: { ...secretCreatedData, vaultName: `Prod${NUL}` } }, 'body.data.vaultName'],
      ['POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: { ...secretCreatedData, actor: { id: `usr${NUL}` } } }, 'body.data.actor.id'],
      ['POST', '/v1/events', org.serviceToken, { id: `evt_${NUL}`, event: 'secret.created', data: secretCreatedData }, 'body.id'],
      ['POST', '/v1/integrations/slack/authorize', org.apiKey, { events: ['secret.created'], description: `a${NUL}` }, 'body.description'],
      ['POST', '/v1/integrations/slack/authorize', org.apiKey, { events: ['secret.created'], vaultIds: [`v${NUL}`] }, 'body.vaultIds.0'],
    ];
    for (const [method, path, token, body, field] of cases) {
      const res = await stack.api(method, path, token, body);
      expectProblem(res, 400, field);
    }
    // A NUL in a key, in a query string and in a path parameter.
    const keyed = await raw('POST', '/v1/events', { token: org.serviceToken, contentType: 'application/json', body: '{"event":"vault.created","data":{"vaultId":"v","x\\u0000":1}}' });
    expectProblem(keyed, 400, 'body.data.x\\u0000');
    expectProblem(await stack.api('GET', '/v1/webhooks?cursor=%00', org.apiKey), 400, 'query.cursor');
    expectProblem(await stack.api('GET', `/v1/webhooks/${webhookId}/deliveries?cursor=a%00b`, org.apiKey), 400, 'query.cursor');
    expectProblem(await stack.api('GET', '/v1/webhooks/wh%00', org.apiKey), 400, 'path.id');
    expectProblem(await stack.api('GET', '/v1/deliveries/dlv%00', org.apiKey), 400, 'path.id');
    expectProblem(await stack.api('GET', '/v1/integrations/slack/callback?state=a%00', null), 400, 'query.state');
    expect(await counts()).toEqual(before);
  });
});

describe('unpaired surrogates (valid JSON escapes, but no Unicode text)', () => {
  it('are a 400 naming the field where PostgreSQL would fail (jsonb) or store U+FFFD instead (text), and nothing is stored', async () => {
    const before = await counts();
    const w = `/v1/webhooks/${webhookId}`;
    // Written as JSON escapes, the only way they arrive: UTF-8 cannot carry them.
    const cases: [string, string, string, string, string][] = [
      ['POST', '/v1/events', org.serviceToken, '{"event":"vault.created","data":{"vaultId":"vlt_\\ud800"}}', 'body.data.vaultId'],
      ['POST', '/v1/events', org.serviceToken, '{"event":"secret.created","data":{"vaultId":"v","secretId":"s","secretKey":"k","actor":{"id":"u","name":"Zo\\udc00e"}}}', 'body.data.actor.name'],
      ['POST', '/v1/events', org.serviceToken, '{"event":"vault.created","data":{"vaultId":"v","k\\ud83d":1}}', 'body.data.k\\ud83d'],
      ['POST', '/v1/webhooks', org.apiKey, '{"url":"https://example.com/hook","events":["secret.created"],"description":"a\\udfffb"}', 'body.description'],
      ['PATCH', w, org.apiKey, '{"description":"\\ud800"}', 'body.description'],
      ['PATCH', w, org.apiKey, '{"vaultIds":["\\ude00😀"]}', 'body.vaultIds.0'],
    ];
    for (const [method, path, token, body, field] of cases) {
      const res = await raw(method, path, { token, contentType: 'application/json', body });
      expectProblem(res, 400, field);
      expect(res.body.errors[0].message).toContain('unpaired surrogate');
    }
    expect(await counts()).toEqual(before);
  });
});

describe('deep nesting', () => {
  it('ingest data with thousands of nested arrays is a 400 (depth limit), and the API carries on', async () => {
    const before = await counts();
    for (const depth of [33, 8_000, 100_000]) {
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const res = await raw('POST', '/v1/events', { token: org.serviceToken, contentType: 'application/json', body: `{"event":"secret.created","data":{"vaultId":"v","deep":${nested}}}` });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toEqual({ field: expect.stringMatching(/^body\.data\.deep(\.0)*$/), message: 'nests deeper than 32 levels' });
    }
    // Deep objects too, on an admin route.
    const objects = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    expectProblem(await raw('PATCH', `/v1/webhooks/${webhookId}`, { token: org.apiKey, contentType: 'application/json', body: objects }), 400, 'body' + '.a'.repeat(32));
    expect(await counts()).toEqual(before);
    expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).status).toBe(200);
  });
});

describe('input hygiene', () => {
  const ingest = (body: string | Buffer, contentType: string | null = 'application/json', token: string | null = org.serviceToken) =>
    raw('POST', '/v1/events', { token, contentType, body });
  const valid = JSON.stringify({ event: 'secret.created', data: secretCreatedData });

  it('refuses invalid UTF-8 (400), non-JSON media types (415) and duplicate keys (400 naming the key)', async () => {
    const before = await counts();
    const invalidUtf8 = Buffer.concat([Buffer.from('{"event":"secret.created","data":{"vaultId":"v'), Buffer.from([0xc3, 0x28]), Buffer.from('","secretId":"s","secretKey":"k"}}')]);
    expectProblem(await ingest(invalidUtf8), 400, 'body');
    expectProblem(await ingest(valid, 'text/plain'), 415, 'Content-Type');
    expectProblem(await ingest(valid, null), 415, 'Content-Type');
    expectProblem(await ingest(valid, 'application/x-www-form-urlencoded'), 415, 'Content-Type');
    expectProblem(await ingest(valid, 'application/json; charset=iso-8859-1'), 415, 'Content-Type');
    expectProblem(await ingest('{"event":"secret.created","event":"vault.created","data":{"vaultId":"v"}}'), 400, 'body.event');
    expectProblem(await ingest('{"event":"vault.created","data":{"vaultId":"a","vaultId":"b"}}'), 400, 'body.data.vaultId');
    expectProblem(
      await raw('POST', '/v1/webhooks', { token: org.apiKey, contentType: 'application/json', body: '{"url":"https://example.com/a","url":"https://example.com/b","events":["secret.created"]}' }),
      400,
      'body.url',
    );
    expect(await counts()).toEqual(before);
    // The same body, well formed, is accepted: the refusals above are for the reason named.
    expect((await ingest(valid, 'application/json; charset=utf-8')).status).toBe(202);
  });

  it('authenticates before reading the body: without a valid key every bad body is a 401', async () => {
    const before = await counts();
    const bodies: [string | Buffer, string | null][] = [
      ['{"event": "secret.created", "data": {', 'application/json'],
      [JSON.stringify({ event: 'secret.created', data: { ...secretCreatedData, vaultName: 'v'.repeat(300_000) } }), 'application/json'],
      [valid, 'text/plain'],
      [Buffer.from([0xff, 0xfe, 0x00]), 'application/json'],
      ['{"a":1,"a":2}', 'application/json'],
    ];
    for (const [body, contentType] of bodies) {
      for (const token of [null, 'ck_svc_doesNotExist']) expectProblem(await ingest(body, contentType, token), 401, 'Authorization');
    }
    expectProblem(await raw('POST', '/v1/webhooks', { contentType: 'text/plain', body: 'x'.repeat(300_000) }), 401, 'Authorization');
    expect(await counts()).toEqual(before);
  });
});

describe('undeclared methods', () => {
  it('answer 405 with an Allow header naming the methods the path has', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/v1/webhooks', 'GET, HEAD, POST'],
      ['DELETE', '/v1/events', 'POST'],
      ['PUT', `/v1/webhooks/${webhookId}`, 'GET, HEAD, PATCH, DELETE'],
      ['GET', `/v1/webhooks/${webhookId}/rotate-secret`, 'POST'],
      ['POST', '/v1/event-types', 'GET, HEAD'],
      ['PATCH', '/v1/api-keys/key_1', 'DELETE'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await raw(method, path, { token: org.apiKey });
      expect({ method, path, status: res.status, allow: res.allow?.split(', ').sort() }).toEqual({ method, path, status: 405, allow: allow.split(', ').sort() });
      expectProblem(res, 405, 'method');
    }
    // An unknown path is still a 404.
    expect((await raw('PUT', '/v1/nothing-here', { token: org.apiKey })).status).toBe(404);
  });

  it('OPTIONS is one of them (no CORS): 405 problem+json with Allow, with or without a key, on every known path', async () => {
    const cases: [string, string][] = [
      ['/v1/webhooks', 'GET, HEAD, POST'],
      [`/v1/webhooks/${webhookId}`, 'GET, HEAD, PATCH, DELETE'],
      [`/v1/webhooks/${webhookId}/rotate-secret`, 'POST'],
      ['/v1/events', 'POST'],
      ['/v1/event-types', 'GET, HEAD'],
      ['/v1/deliveries/dlv_1', 'GET, HEAD'],
    ];
    for (const [path, allow] of cases) {
      for (const token of [null, org.apiKey]) {
        const res = await raw('OPTIONS', path, { token });
        expect({ path, token: Boolean(token), status: res.status, allow: res.allow?.split(', ').sort() }).toEqual({ path, token: Boolean(token), status: 405, allow: allow.split(', ').sort() });
        expectProblem(res, 405, 'method');
      }
    }
    // Elsewhere it is the same 404 as any method on an unknown path, never a 200 listing methods.
    for (const path of ['/v1/nothing-here', '/healthz', '/openapi.json']) {
      const res = await raw('OPTIONS', path);
      expect({ path, status: res.status, contentType: res.contentType }).toEqual({ path, status: 404, contentType: expect.stringContaining('application/problem+json') });
    }
  });
});

describe('the contract (what schemathesis found)', () => {
  const doc = () => stack.openapi as any;

  it('declares the statuses the server can answer: 409 where a state refuses, 413/415 where a body is read, 429 with Retry-After', () => {
    const op = (path: string, method: string) => doc().paths[path][method];
    for (const [path, method] of [['/v1/webhooks/{id}/enable', 'post'], ['/v1/webhooks/{id}/test', 'post'], ['/v1/deliveries/{id}/redeliver', 'post'], ['/v1/api-keys/{id}', 'delete']]) {
      expect({ path, has409: '409' in op(path, method).responses }).toEqual({ path, has409: true });
    }
    for (const route of stack.routes) {
      const operation = op(route.path.replace(/:(\w+)/g, '{$1}'), route.method);
      const label = `${route.method} ${route.path}`;
      const readsBody = operation.requestBody !== undefined;
      expect({ label, s413: '413' in operation.responses, s415: '415' in operation.responses }).toEqual({ label, s413: readsBody, s415: readsBody });
      expect({ label, retryAfter: operation.responses['429'].headers?.['Retry-After'] !== undefined, s401: '401' in operation.responses }).toEqual({ label, retryAfter: true, s401: true });
    }
    expect(doc().components.schemas.CreateWebhook.properties.url).toMatchObject({ type: 'string', format: 'uri', maxLength: 2048 });
    expect(doc().components.schemas.UpdateWebhook).toMatchObject({ minProperties: 1 });
  });

  it('rotate-secret takes no body (as documented: not required), `{}` or a given secret; a JSON null is a 400', async () => {
    expect(doc().paths['/v1/webhooks/{id}/rotate-secret'].post.requestBody.required).toBe(false);
    const path = `/v1/webhooks/${webhookId}/rotate-secret`;
    const none = await raw('POST', path, { token: org.apiKey });
    expect(none.status).toBe(200);
    expect(none.body.secret).toMatch(/^whsec_/);
    expect((await stack.api('POST', path, org.apiKey, {})).status).toBe(200);
    const given = await stack.api('POST', path, org.apiKey, { secret: 'a-given-secret-0123456789abcdef' });
    expect(given.body.secret).toBe('a-given-secret-0123456789abcdef');
    expectProblem(await raw('POST', path, { token: org.apiKey, contentType: 'application/json', body: 'null' }), 400, 'body');
  });
});

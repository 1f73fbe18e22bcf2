/**
 * The admin API end to end on the Temporal dev server: webhook life cycle, pings, the secret, and the
 * Delivery Log, against real HTTP receivers on loopback.
 */
import { Receiver, ReceivedRequest, Responder } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { verifyWebhook } from './support/verify-webhook';
import { freePort } from '../src/dev/ports';

/** A loopback port nothing listens on (until a receiver takes it). */

let stack: Stack;
let org: Org;
const receivers: Receiver[] = [];

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await stack?.close();
});

async function receiver(respond?: Responder, port?: number): Promise<Receiver> {
  const r = await new Receiver(respond).start(port);
  receivers.push(r);
  return r;
}

const api = (method: string, path: string, body?: unknown, token = org.apiKey) => stack.api(method, path, token, body);
const webhookRow = (id: string) => stack.db('webhooks').where({ id }).first();
const deliveryRow = (id: string) => stack.db('deliveries').where({ id }).first();
const waitForStatus = (id: string, status: string) => waitFor(async () => (await webhookRow(id))?.status === status, `webhook ${id} to be ${status}`);
const requestsFor = (r: Receiver, deliveryId: string) => r.requests.filter((q) => q.headers['x-cloudkeep-delivery'] === deliveryId);

async function createWebhook(url: string, extra: Record<string, unknown> = {}, token = org.apiKey) {
  const res = await stack.api('POST', '/v1/webhooks', token, { url, events: ['secret.created'], ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; status: string; url: string };
}

/** Every GET a dashboard makes about a webhook must keep its secret out. */
async function expectNoSecretInGets(webhookId: string, secrets: string[], token = org.apiKey) {
  const api = (method: string, path: string) => stack.api(method, path, token);
  const reads = [await api('GET', `/v1/webhooks/${webhookId}`), await api('GET', '/v1/webhooks?limit=100'), await api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`)];
  for (const d of reads[2].body.data) reads.push(await api('GET', `/v1/deliveries/${d.id}`));
  for (const res of reads) {
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"secret"\s*:/);
    expect(text).not.toContain('whsec_');
  }
}

describe('ping life cycle', () => {
  it('a reachable endpoint becomes active after the creation ping, which the spec verifyWebhook accepts', async () => {
    const r = await receiver();
    const created = await createWebhook(`${r.url}/hook`, { description: 'reachable' });
    expect(created).toMatchObject({ status: 'pending', url: `${r.url}/hook`, secret: expect.stringMatching(/^whsec_/) });
    await waitForStatus(created.id, 'active');

    const [ping] = r.requests;
    expect(ping.path).toBe('/hook');
    expect(ping.headers['x-cloudkeep-event']).toBe('ping');
    expect(verifyWebhook(ping.body, ping.headers['x-cloudkeep-signature-256'] as string, created.secret)).toBe(true);
    expect(JSON.parse(ping.body)).toMatchObject({ id: expect.stringMatching(/^evt_/), event: 'ping', data: { webhookId: created.id } });
    expect((await api('GET', `/v1/webhooks/${created.id}`)).body).toMatchObject({ id: created.id, status: 'active', description: 'reachable' });
  });

  it('an unreachable endpoint becomes inactive; once it listens, the Test button makes it active', async () => {
    const port = await freePort(); // closed: nothing listens there yet
    const created = await createWebhook(`http://127.0.0.1:${port}/hook`);
    await waitForStatus(created.id, 'inactive');
    const inactive = await api('GET', `/v1/webhooks/${created.id}`);
    expect(inactive.body).toMatchObject({ status: 'inactive', statusReason: 'Ping failed: Connection refused' });

    const r = await receiver(undefined, port);
    const test = await api('POST', `/v1/webhooks/${created.id}/test`);
    expect(test.status).toBe(202);
    expect(test.body).toEqual({ deliveryId: expect.stringMatching(/^dlv_/), status: 'pending' });
    await waitForStatus(created.id, 'active');
    const [ping] = requestsFor(r, test.body.deliveryId);
    expect(ping.headers['x-cloudkeep-event']).toBe('ping');
    expect(verifyWebhook(ping.body, ping.headers['x-cloudkeep-signature-256'] as string, created.secret)).toBe(true);
    expect(await deliveryRow(test.body.deliveryId)).toMatchObject({ status: 'succeeded', attempt_count: 1, last_response_status: 200 });
  });
});

describe('webhook management', () => {
  it('pages without skipping rows created within the same millisecond (the cursor keeps microseconds)', async () => {
    const other = await stack.createOrg('Same millisecond');
    const r = await receiver();
    const made: string[] = [];
    for (const n of [1, 2, 3]) made.push((await createWebhook(`${r.url}/ms${n}`, {}, other.apiKey)).id);
    // PostgreSQL keeps microseconds; a burst writes rows this close together.
    for (const [i, id] of made.entries()) {
      await stack.db.raw(`UPDATE webhooks SET created_at = '2026-01-01T00:00:00.123Z'::timestamptz + make_interval(secs => ?) WHERE id = ?`, [(i + 1) / 1e6, id]);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const res = await stack.api('GET', `/v1/webhooks?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, other.apiKey);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((w: { id: string }) => w.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...made].reverse());
  });

  it('lists newest first with cursor pagination, and reads one; no secret in any GET', async () => {
    const other = await stack.createOrg('Lister');
    const r = await receiver();
    const made: { id: string; secret: string }[] = [];
    for (const n of [1, 2, 3]) made.push(await createWebhook(`${r.url}/w${n}`, { description: `w${n}` }, other.apiKey));
    const [w1, w2, w3] = made;

    const first = await stack.api('GET', '/v1/webhooks?limit=2', other.apiKey);
    expect(first.status).toBe(200);
    expect(first.body.data.map((w: { id: string }) => w.id)).toEqual([w3.id, w2.id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await stack.api('GET', `/v1/webhooks?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, other.apiKey);
    expect(second.body.data.map((w: { id: string }) => w.id)).toEqual([w1.id]);
    expect(second.body.nextCursor).toBeNull();
    const all = await stack.api('GET', '/v1/webhooks', other.apiKey);
    expect(all.body).toEqual({ data: [expect.objectContaining({ id: w3.id }), expect.objectContaining({ id: w2.id }), expect.objectContaining({ id: w1.id })], nextCursor: null });

    const read = await stack.api('GET', `/v1/webhooks/${w2.id}`, other.apiKey);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: w2.id, destination: 'generic', url: `${r.url}/w2`, events: ['secret.created'], vaultIds: null, description: 'w2' });
    expect(read.body).not.toHaveProperty('secret');
    for (const res of [first, second, all, read]) for (const w of made) expect(JSON.stringify(res.body)).not.toContain(w.secret);
  });

  it('a changed URL sends the webhook back to pending with a new ping; other changes do not', async () => {
    const oldReceiver = await receiver();
    const newReceiver = await receiver();
    const created = await createWebhook(`${oldReceiver.url}/old`);
    await waitForStatus(created.id, 'active');
    const pingsBefore = await stack.db('deliveries').where({ webhook_id: created.id, event_type: 'ping' }).count<{ count: string }[]>('* as count');

    const described = await api('PATCH', `/v1/webhooks/${created.id}`, { description: 'just a label', events: ['secret.created', 'vault.deleted'] });
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ status: 'active', description: 'just a label', events: ['secret.created', 'vault.deleted'] });
    expect(described.body).not.toHaveProperty('secret');
    expect(await stack.db('deliveries').where({ webhook_id: created.id, event_type: 'ping' }).count('* as count')).toEqual(pingsBefore);

    const moved = await api('PATCH', `/v1/webhooks/${created.id}`, { url: `${newReceiver.url}/new` });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: 'pending', statusReason: 'URL changed', url: `${newReceiver.url}/new` });
    await waitForStatus(created.id, 'active');
    const [ping] = newReceiver.requests;
    expect(ping).toMatchObject({ path: '/new', headers: expect.objectContaining({ 'x-cloudkeep-event': 'ping' }) });
    expect(verifyWebhook(ping.body, ping.headers['x-cloudkeep-signature-256'] as string, created.secret)).toBe(true);
    expect(oldReceiver.requests).toHaveLength(1); // only the creation ping
  });

  it('delete answers 204, then 404, and cancels the deliveries still waiting to retry', async () => {
    const r = await receiver((req) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : { status: 500, body: 'down' }));
    const created = await createWebhook(r.url);
    await waitForStatus(created.id, 'active');
    const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
    expect(ingest.status).toBe(202);
    const delivery = await waitFor(
      () => stack.db('deliveries').where({ webhook_id: created.id, event_id: ingest.body.id, status: 'retrying' }).first(),
      'the event delivery to wait in back-off',
    );

    const deleted = await api('DELETE', `/v1/webhooks/${created.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    await waitFor(async () => (await deliveryRow(delivery.id)).status === 'cancelled', 'the waiting delivery to be cancelled');
    expect(await deliveryRow(delivery.id)).toMatchObject({ status: 'cancelled', last_error: 'Webhook deleted', next_attempt_at: null, attempt_count: 1 });
    const handle = stack.client.workflow.getHandle(deliveryWorkflowId(delivery.id));
    expect(await handle.result()).toMatchObject({ status: 'cancelled', scheduledAttempts: 1 });

    for (const [method, path] of [
      ['GET', `/v1/webhooks/${created.id}`],
      ['PATCH', `/v1/webhooks/${created.id}`],
      ['DELETE', `/v1/webhooks/${created.id}`],
      ['GET', `/v1/webhooks/${created.id}/deliveries`],
      ['GET', `/v1/deliveries/${delivery.id}`],
    ]) {
      const res = await api(method, path, method === 'PATCH' ? { description: 'x' } : undefined);
      expect({ method, path, status: res.status, contentType: res.contentType }).toEqual({ method, path, status: 404, contentType: expect.stringContaining('application/problem+json') });
    }
    const list = await api('GET', '/v1/webhooks?limit=100');
    expect(list.body.data.map((w: { id: string }) => w.id)).not.toContain(created.id);
  });

  it('rotate-secret returns the new secret once; the next attempt is signed with it', async () => {
    const r = await receiver();
    const created = await createWebhook(r.url);
    await waitForStatus(created.id, 'active');

    const rotated = await api('POST', `/v1/webhooks/${created.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.id, secret: expect.stringMatching(/^whsec_/) });
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(created.secret);

    const test = await api('POST', `/v1/webhooks/${created.id}/test`);
    const [ping] = await waitFor(() => (requestsFor(r, test.body.deliveryId).length ? requestsFor(r, test.body.deliveryId) : null), 'the ping after rotation');
    const signature = ping.headers['x-cloudkeep-signature-256'] as string;
    expect(verifyWebhook(ping.body, signature, newSecret)).toBe(true);
    expect(verifyWebhook(ping.body, signature, created.secret)).toBe(false);

    // A secret of the owner's choosing is taken as given.
    const chosen = 'my-own-signing-secret-0123456789';
    const given = await api('POST', `/v1/webhooks/${created.id}/rotate-secret`, { secret: chosen });
    expect(given.body.secret).toBe(chosen);
    const test2 = await api('POST', `/v1/webhooks/${created.id}/test`);
    const [ping2] = await waitFor(() => (requestsFor(r, test2.body.deliveryId).length ? requestsFor(r, test2.body.deliveryId) : null), 'the ping after the second rotation');
    expect(verifyWebhook(ping2.body, ping2.headers['x-cloudkeep-signature-256'] as string, chosen)).toBe(true);

    await expectNoSecretInGets(created.id, [created.secret, newSecret, chosen]);
  });

  it('enable answers 409 on a webhook that is not disabled, and re-enables (with a ping) one that is', async () => {
    const r = await receiver();
    const created = await createWebhook(r.url);
    await waitForStatus(created.id, 'active');
    const conflict = await api('POST', `/v1/webhooks/${created.id}/enable`);
    expect(conflict.status).toBe(409);
    expect(conflict.contentType).toContain('application/problem+json');
    expect(conflict.body.errors).toEqual([{ field: 'status', message: 'the webhook is active, not disabled' }]);
    expect((await webhookRow(created.id)).status).toBe('active');

    await stack.db('webhooks').where({ id: created.id }).update({ status: 'disabled', status_reason: 'Failing for 3 consecutive days' });
    const enabled = await api('POST', `/v1/webhooks/${created.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ status: 'pending', statusReason: 'Re-enabled by the owner' });
    await waitForStatus(created.id, 'active');
    expect(r.requests.filter((q) => q.headers['x-cloudkeep-event'] === 'ping')).toHaveLength(2);
  });
});

describe('Delivery Log', () => {
  it('lists deliveries newest first, filtered by status and event, and shows every attempt in full', async () => {
    const r = await receiver((req) => {
      if (req.headers['x-cloudkeep-event'] === 'vault.created') return { status: 500, body: 'vault handler exploded' };
      return { status: 200, body: 'thanks' };
    });
    const logOrg = await stack.createOrg('Log reader'); // its only webhook: each event fans out to it alone
    const created = await createWebhook(`${r.url}/log`, { events: ['secret.created', 'vault.created'] }, logOrg.apiKey);
    await waitForStatus(created.id, 'active');
    const ingest = async (event: string, data: unknown) => {
      const res = await stack.api('POST', '/v1/events', logOrg.serviceToken, { event, data });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ deliveries: 1, duplicate: false });
      return res.body.id as string;
    };
    const secretEvent = await ingest('secret.created', secretCreatedData);
    const vaultEvent = await ingest('vault.created', { vaultId: 'vlt_8xK2mN', vaultName: 'Production' });
    const deliveries = await waitFor(async () => {
      const rows = await stack.db('deliveries').where({ webhook_id: created.id });
      const done = rows.find((d) => d.event_id === secretEvent)?.status === 'succeeded' && rows.find((d) => d.event_id === vaultEvent)?.status === 'retrying';
      return done ? rows : null;
    }, 'one delivery succeeded and one retrying');
    const idOf = (eventId: string) => deliveries.find((d: { event_id: string }) => d.event_id === eventId).id as string;
    const [secretDelivery, vaultDelivery] = [idOf(secretEvent), idOf(vaultEvent)];
    const pingDelivery = deliveries.find((d: { event_type: string }) => d.event_type === 'ping').id as string;

    const api = (method: string, path: string) => stack.api(method, path, logOrg.apiKey);
    const list = async (query = '') => {
      const res = await api('GET', `/v1/webhooks/${created.id}/deliveries${query}`);
      expect(res.status).toBe(200);
      return res.body as { data: { id: string; event: string; status: string }[]; nextCursor: string | null };
    };
    expect((await list()).data.map((d) => d.id)).toEqual([vaultDelivery, secretDelivery, pingDelivery]);
    expect((await list('?status=retrying')).data.map((d) => d.id)).toEqual([vaultDelivery]);
    expect((await list('?status=succeeded')).data.map((d) => d.id)).toEqual([secretDelivery, pingDelivery]);
    expect((await list('?event=secret.created')).data.map((d) => d.id)).toEqual([secretDelivery]);
    expect((await list('?event=ping&status=succeeded')).data.map((d) => d.id)).toEqual([pingDelivery]);
    expect((await list('?event=vault.created&status=succeeded')).data).toEqual([]);
    expect((await list('?status=failed')).data).toEqual([]);
    const page1 = await list('?limit=2');
    expect(page1.data.map((d) => d.id)).toEqual([vaultDelivery, secretDelivery]);
    const page2 = await list(`?limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`);
    expect(page2).toEqual({ data: [expect.objectContaining({ id: pingDelivery })], nextCursor: null });

    // The failing delivery: the whole attempt as sent and as answered.
    const detail = await api('GET', `/v1/deliveries/${vaultDelivery}`);
    expect(detail.status).toBe(200);
    const received: ReceivedRequest = requestsFor(r, vaultDelivery)[0];
    expect(detail.body).toMatchObject({
      id: vaultDelivery,
      webhookId: created.id,
      eventId: vaultEvent,
      event: 'vault.created',
      status: 'retrying',
      attemptCount: 1,
      lastResponseStatus: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: expect.any(String),
      completedAt: null,
      temporalUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(`delivery:${vaultDelivery}`)}`,
      payload: { id: vaultEvent, event: 'vault.created', data: { vaultId: 'vlt_8xK2mN', vaultName: 'Production' } },
    });
    expect(detail.body.attempts).toHaveLength(1);
    const [attempt] = detail.body.attempts;
    expect(attempt).toMatchObject({
      number: 1,
      trigger: 'scheduled',
      attemptedAt: expect.any(String),
      request: {
        url: `${r.url}/log`,
        headers: expect.objectContaining({
          'Content-Type': 'application/json',
          'X-CloudKeep-Event': 'vault.created',
          'X-CloudKeep-Delivery': vaultDelivery,
          'X-CloudKeep-Signature-256': received.headers['x-cloudkeep-signature-256'],
        }),
        body: received.body,
      },
      response: { status: 500, body: 'vault handler exploded' },
      error: 'HTTP 500',
      succeeded: false,
    });
    expect(Number.isInteger(attempt.durationMs) && attempt.durationMs >= 0).toBe(true);
    expect(verifyWebhook(attempt.request.body, attempt.request.headers['X-CloudKeep-Signature-256'], created.secret)).toBe(true);
    expect(new Date(detail.body.nextAttemptAt).getTime() - new Date(attempt.attemptedAt).getTime()).toBeGreaterThanOrEqual(60_000);

    const ok = await api('GET', `/v1/deliveries/${secretDelivery}`);
    expect(ok.body).toMatchObject({ status: 'succeeded', completedAt: expect.any(String), nextAttemptAt: null, lastResponseStatus: 200, lastError: null });
    expect(ok.body.attempts).toEqual([expect.objectContaining({ succeeded: true, response: { status: 200, body: 'thanks' }, error: null })]);
    expect(JSON.parse(ok.body.attempts[0].request.body)).toEqual({ id: secretEvent, event: 'secret.created', timestamp: expect.any(String), data: secretCreatedData });

    await expectNoSecretInGets(created.id, [created.secret], logOrg.apiKey);
  });
});

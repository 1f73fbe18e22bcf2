/**
 * Standard Webhooks signatures, opt-in per generic webhook, checked by an independent verifier (the
 * `standardwebhooks` package) on real deliveries to a loopback receiver, on the dev server (the verifier
 * compares webhook-timestamp with the wall clock, so real time, not skipped time).
 */
import { Webhook } from 'standardwebhooks';
import { Receiver, ReceivedRequest } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';

let stack: Stack;
let org: Org;
let receiver: Receiver;
/** Event requests to a path fail while the path is listed here. */
const failing = new Set<string>();

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  receiver = await new Receiver((req) => (failing.has(req.path) && req.headers['x-cloudkeep-event'] !== 'ping' ? { status: 500, body: 'down' } : { status: 200, body: 'ok' })).start();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

const eventRequestsTo = (path: string): ReceivedRequest[] => receiver.requests.filter((r) => r.path === path && r.headers['x-cloudkeep-event'] === 'secret.created');
const headersOf = (r: ReceivedRequest) => r.headers as Record<string, string>;

async function createWebhook(path: string, extra: Record<string, unknown> = {}) {
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${path}`, events: ['secret.created'], ...extra });
  expect(created.status).toBe(201);
  await waitFor(async () => (await stack.db('webhooks').where({ id: created.body.id }).first()).status === 'active', 'the ping to make the webhook active');
  return created.body as { id: string; secret: string; standardWebhooks: boolean };
}

async function ingest(): Promise<string> {
  const res = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(res.status).toBe(202);
  return res.body.id;
}

describe('Standard Webhooks signatures', () => {
  it('are sent when asked for, verified by the standardwebhooks package with the secret as the owner sees it', async () => {
    const webhook = await createWebhook('/standard', { standardWebhooks: true });
    expect(webhook.standardWebhooks).toBe(true);
    expect(webhook.secret).toMatch(/^whsec_/);
    expect((await stack.api('GET', `/v1/webhooks/${webhook.id}`, org.apiKey)).body.standardWebhooks).toBe(true);

    const eventId = await ingest();
    const [request] = await waitFor(() => (eventRequestsTo('/standard').length ? eventRequestsTo('/standard') : null), 'the delivery');
    const headers = headersOf(request);
    const delivery = await stack.db('deliveries').where({ event_id: eventId, webhook_id: webhook.id }).first();
    expect(headers['webhook-id']).toBe(delivery.id);
    expect(headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(Math.abs(Number(headers['webhook-timestamp']) - request.at / 1000)).toBeLessThan(60);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // The independent verifier accepts it and returns the payload; the spec's own signature is still there and valid.
    expect(new Webhook(webhook.secret).verify(request.body, headers)).toEqual(JSON.parse(request.body));
    expect(verifyWebhook(request.body, headers['x-cloudkeep-signature-256'], webhook.secret)).toBe(true);
    // …and refuses it for another secret or a changed body.
    const other = (await createWebhook('/other', { standardWebhooks: true })).secret;
    expect(() => new Webhook(other).verify(request.body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(webhook.secret).verify(request.body.replace('NEW_API_KEY', 'OTHER_KEY'), headers)).toThrow(/No matching signature/);

    // The Delivery Log shows the headers exactly as sent.
    const detail = await stack.api('GET', `/v1/deliveries/${delivery.id}`, org.apiKey);
    expect(detail.body.attempts[0].request.headers).toMatchObject({
      'webhook-id': delivery.id,
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
      'X-CloudKeep-Signature-256': headers['x-cloudkeep-signature-256'],
    });
  });

  it('keep webhook-id across attempts of one delivery, each attempt stamped and signed afresh', async () => {
    failing.add('/retried');
    const webhook = await createWebhook('/retried', { standardWebhooks: true });
    const eventId = await ingest();
    const delivery = await waitFor(async () => {
      const row = await stack.db('deliveries').where({ event_id: eventId, webhook_id: webhook.id }).first();
      return row?.status === 'retrying' ? row : null;
    }, 'the first attempt to fail');
    failing.delete('/retried');
    expect((await stack.api('POST', `/v1/deliveries/${delivery.id}/redeliver`, org.apiKey)).status).toBe(202);
    await waitFor(async () => (await stack.db('deliveries').where({ id: delivery.id }).first()).status === 'succeeded', 'the redelivery to succeed');

    const requests = eventRequestsTo('/retried');
    expect(requests).toHaveLength(2);
    const verifier = new Webhook(webhook.secret);
    for (const request of requests) {
      expect(headersOf(request)['webhook-id']).toBe(delivery.id);
      expect(verifier.verify(request.body, headersOf(request))).toEqual(JSON.parse(request.body));
    }
    expect(requests[0].body).toBe(requests[1].body);
  });

  it('are not sent unless asked for, can be switched on and off, and follow a rotated secret', async () => {
    const webhook = await createWebhook('/plain');
    expect(webhook.standardWebhooks).toBe(false);
    await ingest();
    const [plain] = await waitFor(() => (eventRequestsTo('/plain').length ? eventRequestsTo('/plain') : null), 'the plain delivery');
    expect(Object.keys(plain.headers).filter((h) => h.startsWith('webhook-'))).toEqual([]);
    expect(verifyWebhook(plain.body, headersOf(plain)['x-cloudkeep-signature-256'], webhook.secret)).toBe(true);

    const on = await stack.api('PATCH', `/v1/webhooks/${webhook.id}`, org.apiKey, { standardWebhooks: true });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ standardWebhooks: true, status: 'active' });
    const rotated = await stack.api('POST', `/v1/webhooks/${webhook.id}/rotate-secret`, org.apiKey);
    expect(rotated.body.standardWebhooks).toBe(true);
    await ingest();
    const signed = await waitFor(() => eventRequestsTo('/plain')[1], 'the signed delivery');
    expect(new Webhook(rotated.body.secret).verify(signed.body, headersOf(signed))).toEqual(JSON.parse(signed.body));
    expect(() => new Webhook(webhook.secret).verify(signed.body, headersOf(signed))).toThrow(/No matching signature/);

    const off = await stack.api('PATCH', `/v1/webhooks/${webhook.id}`, org.apiKey, { standardWebhooks: false });
    expect(off.body.standardWebhooks).toBe(false);
    await ingest();
    const unsigned = await waitFor(() => eventRequestsTo('/plain')[2], 'the delivery after switching off');
    expect(headersOf(unsigned)['webhook-signature']).toBeUndefined();
  });

  it('are refused, naming the field, where they cannot work; nothing is written', async () => {
    const problem = (res: { status: number; contentType: string; body: any }, field: string) => {
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    const before = await stack.db('webhooks').count({ n: '*' }).first();
    problem(await stack.api('POST', '/v1/webhooks', org.apiKey, { url: 'https://hooks.slack.com/services/T1/B2/xyz', destination: 'slack', events: ['secret.created'], standardWebhooks: true }), 'body.standardWebhooks');
    problem(await stack.api('POST', '/v1/webhooks', org.apiKey, { url: 'https://discord.com/api/webhooks/1/abc', destination: 'discord', events: ['secret.created'], standardWebhooks: true }), 'body.standardWebhooks');
    problem(await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/x`, events: ['secret.created'], standardWebhooks: 'yes' }), 'body.standardWebhooks');
    // A secret of the owner's own that a Standard Webhooks verifier could not decode.
    const ownSecret = 'my-own-shared-secret-for-this-endpoint';
    const refused = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/x`, events: ['secret.created'], secret: ownSecret, standardWebhooks: true });
    problem(refused, 'body.secret');
    expect(JSON.stringify(refused.body)).not.toContain(ownSecret);
    expect(await stack.db('webhooks').count({ n: '*' }).first()).toEqual(before);

    // The same secret without Standard Webhooks is fine, but switching them on later is refused until rotated.
    const own = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/own`, events: ['secret.created'], secret: ownSecret });
    expect(own.status).toBe(201);
    problem(await stack.api('PATCH', `/v1/webhooks/${own.body.id}`, org.apiKey, { standardWebhooks: true }), 'body.standardWebhooks');
    expect((await stack.db('webhooks').where({ id: own.body.id }).first()).standard_webhooks).toBe(false);
    const rotated = await stack.api('POST', `/v1/webhooks/${own.body.id}/rotate-secret`, org.apiKey);
    expect((await stack.api('PATCH', `/v1/webhooks/${own.body.id}`, org.apiKey, { standardWebhooks: true })).body.standardWebhooks).toBe(true);
    // Now a given secret must be one a verifier can decode.
    problem(await stack.api('POST', `/v1/webhooks/${own.body.id}/rotate-secret`, org.apiKey, { secret: ownSecret }), 'body.secret');
    expect(stack.secretBox.open((await stack.db('webhooks').where({ id: own.body.id }).first()).secret_ciphertext)).toBe(rotated.body.secret);
    const slack = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: 'https://hooks.slack.com/services/T1/B2/xyz', destination: 'slack', events: ['secret.created'] });
    problem(await stack.api('PATCH', `/v1/webhooks/${slack.body.id}`, org.apiKey, { standardWebhooks: true }), 'body.standardWebhooks');
  });
});

/**
 * The typed client (client/: openapi-fetch over the types openapi-typescript generates from /openapi.json) drives
 * the Delivery Log's whole loop against the real stack: create a webhook → ingest an event → read the log and the
 * attempt → redeliver → the manual attempt in the log. Every request here goes through the client.
 */
import { createCloudKeepClient, type CloudKeepClient, type Schemas } from '../client';
import type { Org, Stack } from './support/stack';
import { secretCreatedData, withStackPerFile } from './support/stack';
import type { Receiver } from './support/receiver';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';

let stack: Stack;
let org: Org;
let receiver: Receiver;
withStackPerFile((parts) => ({ stack, org, receiver } = parts));

let admin: CloudKeepClient;
let ingest: CloudKeepClient;
beforeAll(() => {
  admin = createCloudKeepClient({ baseUrl: stack.apiUrl, apiKey: org.apiKey });
  ingest = createCloudKeepClient({ baseUrl: stack.apiUrl, apiKey: org.serviceToken });
});

/** A delivery as the client reads it, once `done` holds for it. */
async function deliveryWhen(id: string, done: (d: Schemas['DeliveryDetail']) => boolean, what: string): Promise<Schemas['DeliveryDetail']> {
  return waitFor(async () => {
    const { data } = await admin.GET('/v1/deliveries/{id}', { params: { path: { id } } });
    return data && done(data) ? data : null;
  }, what);
}

it('create → ingest → Delivery Log → redeliver, through the generated client', async () => {
  const created = await admin.POST('/v1/webhooks', { body: { url: `${receiver.url}/typed`, events: ['secret.created'], description: 'typed client' } });
  expect(created.response.status).toBe(201);
  const webhook = created.data!;
  expect(webhook).toMatchObject({ url: `${receiver.url}/typed`, events: ['secret.created'], status: 'pending', description: 'typed client' });
  expect(webhook.secret).toMatch(/^whsec_/);
  await waitFor(async () => (await admin.GET('/v1/webhooks/{id}', { params: { path: { id: webhook.id } } })).data?.status === 'active', 'the ping to make the webhook active');

  const ingested = await ingest.POST('/v1/events', { body: { event: 'secret.created', data: secretCreatedData } });
  expect(ingested.response.status).toBe(202);
  expect(ingested.data).toEqual({ id: expect.stringMatching(/^evt_/), deliveries: 1, duplicate: false });
  const eventId = ingested.data!.id;

  // The Delivery Log, filtered to the event type (the ping is left out), shows the delivery succeeded.
  const logged = await waitFor(async () => {
    const { data } = await admin.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id }, query: { event: 'secret.created', limit: 10 } } });
    return data?.data.length === 1 && data.data[0].status === 'succeeded' ? data : null;
  }, 'the delivery to succeed in the Delivery Log');
  expect(logged.nextCursor).toBeNull();
  const [entry] = logged.data;
  expect(entry).toMatchObject({ webhookId: webhook.id, eventId, event: 'secret.created', attemptCount: 1, lastResponseStatus: 200, lastError: null });

  const detail = await deliveryWhen(entry.id, (d) => d.attempts.length === 1, 'the first attempt');
  expect(detail.attempts[0]).toMatchObject({ number: 1, trigger: 'scheduled', succeeded: true, response: { status: 200, body: 'ok' } });
  expect(detail.payload).toEqual({ id: eventId, event: 'secret.created', timestamp: expect.any(String), data: secretCreatedData });

  const askedAt = Date.now();
  const redelivered = await admin.POST('/v1/deliveries/{id}/redeliver', { params: { path: { id: entry.id } } });
  expect(redelivered.response.status).toBe(202);
  expect(redelivered.data).toEqual({ deliveryId: entry.id, status: 'pending' });

  const after = await deliveryWhen(entry.id, (d) => d.status === 'succeeded' && d.attempts.length === 2, 'the redelivery to succeed');
  expect(after.attempts.map((a) => [a.number, a.succeeded])).toEqual([[1, true], [2, true]]);
  // A second's grace: the attempt's time is the workflow's clock, not this process's.
  expect(Date.parse(after.attempts[1].attemptedAt)).toBeGreaterThanOrEqual(askedAt - 1000);
  expect(after.attemptCount).toBe(2);

  // The receiver got the event twice, as one delivery, each signed with the secret the client was handed at creation.
  const received = receiver.requests.filter((r) => r.path === '/typed' && r.headers['x-cloudkeep-event'] === 'secret.created');
  expect(received).toHaveLength(2);
  for (const request of received) {
    expect(request.headers['x-cloudkeep-delivery']).toBe(entry.id);
    expect(verifyWebhook(request.body, String(request.headers['x-cloudkeep-signature-256']), webhook.secret!)).toBe(true);
  }
});

it('returns refusals as the typed problem body, naming the field; the compiler refuses what the API would', async () => {
  const refused = await admin.POST('/v1/webhooks', { body: { url: `${receiver.url}/typed`, events: [] } });
  expect(refused.response.status).toBe(400);
  expect(refused.data).toBeUndefined();
  expect(refused.error).toMatchObject({ status: 400, errors: [{ field: 'body.events', message: expect.any(String) }] });

  // Sent anyway, past the compiler: the API refuses an unknown field just as the types do.
  // @ts-expect-error: `colour` is not a field of CreateWebhook
  const unknownField = await admin.POST('/v1/webhooks', { body: { url: `${receiver.url}/typed`, events: ['secret.created'], colour: 'red' } });
  expect(unknownField.error?.errors.map((e) => e.field)).toEqual(['body.colour']);

  const wrongKey = await ingest.GET('/v1/webhooks', {});
  expect(wrongKey.response.status).toBe(403);
  expect(wrongKey.error?.detail).toMatch(/admin API key/);
});

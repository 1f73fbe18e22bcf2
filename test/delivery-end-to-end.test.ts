/**
 * The spine on the dev server: ingest over HTTP → fan-out → signed delivery to a loopback receiver,
 * recorded in PostgreSQL and findable through Temporal's visibility API.
 */
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { deliveryWorkflowId, searchAttributes } from '../src/workflows/messages';
import { verifyWebhook } from './support/verify-webhook';


let stack: Stack;
let receiver: Receiver;
let org: Org;

beforeAll(async () => {
  stack = await createStack();
  receiver = await new Receiver().start();
  org = await stack.createOrg();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

it('delivers the spec payload, signed so that verifyWebhook accepts it, records the attempt and is findable by WebhookId', async () => {
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/ck`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  const { id: webhookId, secret } = created.body;
  expect(secret).toMatch(/^whsec_/);

  const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { id: 'evt_7xM4nQ', event: 'secret.created', timestamp: '2025-06-11T10:30:00Z', data: secretCreatedData });
  expect(ingest.status).toBe(202);
  expect(ingest.body).toEqual({ id: 'evt_7xM4nQ', deliveries: 1, duplicate: false });

  const request = await waitFor(() => receiver.requests.find((r) => r.headers['x-cloudkeep-event'] === 'secret.created'), 'the delivery');
  expect(JSON.parse(request.body)).toEqual({ id: 'evt_7xM4nQ', event: 'secret.created', timestamp: '2025-06-11T10:30:00Z', data: secretCreatedData });
  expect(request.body.startsWith('{"id":"evt_7xM4nQ","event":"secret.created","timestamp":"2025-06-11T10:30:00Z","data":{"vaultId"')).toBe(true);
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.headers['user-agent']).toMatch(/^CloudKeep-Webhooks\//);
  expect(verifyWebhook(request.body, request.headers['x-cloudkeep-signature-256'] as string, secret)).toBe(true);

  const deliveryId = request.headers['x-cloudkeep-delivery'] as string;
  const attempt = await waitFor(() => stack.db('delivery_attempts').where({ delivery_id: deliveryId }).whereNotNull('succeeded').first(), 'the completed attempt row');
  // Tracing is off here: no trace id on the attempt, and no trace header on the request.
  expect(attempt).toMatchObject({ number: 1, succeeded: true, response_status: 200, response_body: 'ok', request_body: request.body, error: null, trace_id: null });
  expect(request.headers.traceparent).toBeUndefined();
  expect(attempt.request_headers['X-CloudKeep-Signature-256']).toBe(request.headers['x-cloudkeep-signature-256']);
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'status succeeded');

  // The Temporal UI finds it by webhook (visibility is eventually consistent: wait for it).
  const found = await waitFor(async () => {
    const ids: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WebhookId = '${webhookId}' AND EventType = 'secret.created'` })) ids.push(wf.workflowId);
    return ids.includes(deliveryWorkflowId(deliveryId)) ? ids : null;
  }, 'visibility by WebhookId');
  expect(found).toContain(deliveryWorkflowId(deliveryId));
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
  expect((await handle.result()).status).toBe('succeeded');
  const description = await handle.describe();
  expect(description.typedSearchAttributes.get({ name: 'VaultId', type: 'KEYWORD' } as never)).toBe('vlt_8xK2mN');
  // A first-attempt success: the run's own status says it, and `DeliveryStatus` is left unset (no visibility write).
  expect(description.status.name).toBe('COMPLETED');
  expect(description.typedSearchAttributes.get(searchAttributes.deliveryStatus)).toBeUndefined();
});

it('sets DeliveryStatus once a delivery leaves the straight path: retrying while it waits, succeeded when a redeliver gets through', async () => {
  const detourOrg = await stack.createOrg('Detour', 'owner@detour.test');
  const created = await stack.api('POST', '/v1/webhooks', detourOrg.apiKey, { url: `${receiver.url}/detour`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  const webhookId = created.body.id;
  await waitFor(async () => (await stack.db('webhooks').where({ id: webhookId }).first()).status === 'active', 'the webhook to be active');
  receiver.respond = (req) => (req.path === '/detour' && req.headers['x-cloudkeep-event'] === 'secret.created' ? { status: 500, body: 'down' } : { status: 200, body: 'ok' });
  try {
    expect((await stack.api('POST', '/v1/events', detourOrg.serviceToken, { id: 'evt_detour', event: 'secret.created', data: secretCreatedData })).status).toBe(202);
    const { id: deliveryId } = await waitFor(() => stack.db('deliveries').where({ event_id: 'evt_detour', webhook_id: webhookId }).first(), 'the delivery row');
    const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
    const statusOf = async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.deliveryStatus);
    await waitFor(async () => ((await statusOf()) === 'retrying' ? true : null), 'DeliveryStatus retrying after the failed attempt');

    receiver.respond = () => ({ status: 200, body: 'ok' });
    expect((await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, detourOrg.apiKey)).status).toBe(202);
    await waitFor(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : null), 'the delivery to end');
    expect(await statusOf()).toBe('succeeded');
    // What an operator types in the Temporal UI finds it (visibility is eventually consistent: wait for it).
    await waitFor(async () => {
      for await (const wf of stack.client.workflow.list({ query: `WebhookId = '${webhookId}' AND DeliveryStatus = 'succeeded'` })) if (wf.workflowId === handle.workflowId) return true;
      return null;
    }, 'visibility by DeliveryStatus');
  } finally {
    receiver.respond = () => ({ status: 200, body: 'ok' });
  }
});

it('accepts the same event id once: a second ingest fans out nothing new', async () => {
  const body = { id: 'evt_twice', event: 'secret.created', data: secretCreatedData };
  const first = await stack.api('POST', '/v1/events', org.serviceToken, body);
  const second = await stack.api('POST', '/v1/events', org.serviceToken, body);
  expect(first.status).toBe(202);
  expect(second.status).toBe(202);
  expect(second.body).toEqual({ id: 'evt_twice', deliveries: first.body.deliveries, duplicate: true });
  expect(await stack.db('deliveries').where({ event_id: 'evt_twice' }).count('* as n').first()).toEqual({ n: String(first.body.deliveries) });
});

it('sends events only to subscribed webhooks within their vault filter', async () => {
  const other = await stack.createOrg('Other');
  const vaultScoped = await stack.api('POST', '/v1/webhooks', other.apiKey, { url: `${receiver.url}/scoped`, events: ['vault.deleted'], vaultIds: ['vlt_other'] });
  const unsubscribed = await stack.api('POST', '/v1/webhooks', other.apiKey, { url: `${receiver.url}/unsub`, events: ['member.added'] });
  expect([vaultScoped.status, unsubscribed.status]).toEqual([201, 201]);
  const miss = await stack.api('POST', '/v1/events', other.serviceToken, { event: 'vault.deleted', data: { vaultId: 'vlt_8xK2mN' } });
  const hit = await stack.api('POST', '/v1/events', other.serviceToken, { event: 'vault.deleted', data: { vaultId: 'vlt_other', vaultName: 'Other' } });
  expect(miss.body.deliveries).toBe(0);
  expect(hit.body.deliveries).toBe(1);
  await waitFor(() => receiver.requests.find((r) => r.path === '/scoped' && r.headers['x-cloudkeep-event'] === 'vault.deleted'), 'the scoped delivery');
  expect(receiver.requests.some((r) => r.path === '/unsub' && r.headers['x-cloudkeep-event'] !== 'ping')).toBe(false);
});

it('starts every delivery of a large fan-out from the outbox', async () => {
  const big = await stack.createOrg('Big');
  const count = 30;
  for (let i = 0; i < count; i++) {
    const res = await stack.api('POST', '/v1/webhooks', big.apiKey, { url: `${receiver.url}/many/${i}`, events: ['member.added'] });
    expect(res.status).toBe(201);
  }
  const ingest = await stack.api('POST', '/v1/events', big.serviceToken, { event: 'member.added', data: { vaultId: 'vlt_1', member: { id: 'usr_2', name: 'Sam' } } });
  expect(ingest.body.deliveries).toBe(count);
  await waitFor(() => receiver.requests.filter((r) => r.path.startsWith('/many/') && r.headers['x-cloudkeep-event'] === 'member.added').length === count, 'every delivery');
  const paths = receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'member.added').map((r) => r.path);
  expect(new Set(paths).size).toBe(count);
  expect((await stack.db('events').where({ id: ingest.body.id }).first()).dispatched_at).not.toBeNull();
});

it('re-dispatches an event that was stored but never reached Temporal', async () => {
  const lost = await stack.createOrg('Lost');
  const created = await stack.api('POST', '/v1/webhooks', lost.apiKey, { url: `${receiver.url}/lost`, events: ['vault.created'] });
  expect(created.status).toBe(201);
  // As if the API crashed between its commit and the workflow start: the rows exist, no workflow does.
  await stack.db.transaction(async (trx) => {
    await trx('events').insert({ organization_id: lost.id, id: 'evt_lost', type: 'vault.created', timestamp: new Date(), data: JSON.stringify({ vaultId: 'vlt_9' }), delivery_count: 1, received_at: new Date(Date.now() - 60_000) });
    await trx('deliveries').insert({ id: 'dlv_lost', organization_id: lost.id, webhook_id: created.body.id, event_id: 'evt_lost', event_type: 'vault.created', status: 'pending' });
  });
  // No notification came: the outbox's fallback look finds it.
  const request = await waitFor(() => receiver.requests.find((r) => r.path === '/lost' && r.headers['x-cloudkeep-event'] === 'vault.created'), 'the delivery from the outbox');
  expect(JSON.parse(request.body).id).toBe('evt_lost');
  await waitFor(async () => (await stack.db('events').where({ id: 'evt_lost' }).first()).dispatched_at !== null, 'the dispatch mark');
});

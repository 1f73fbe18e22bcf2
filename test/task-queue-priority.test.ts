/**
 * Every workflow a delivery runs in carries its organization as the Temporal fairness key (with the organization's
 * weight) and its priority: pings and clicked redeliveries first, live events at the default, a recovery under a
 * fairness key of its own. Read back from the dev server (fairness on, as npm start runs it) with describe().
 */
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { organizationsStore } from '../src/db/stores/organizations';
import { deliveryWorkflowId, recoverWorkflowId } from '../src/workflows/messages';

let stack: Stack;
let receiver: Receiver;
const pingFails = new Set<string>();

beforeAll(async () => {
  stack = await createStack();
  receiver = await new Receiver((req) => ({ status: req.headers['x-cloudkeep-event'] === 'ping' && pingFails.has(req.path) ? 503 : 200 })).start();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

const priorityOf = async (workflowId: string) => (await stack.client.workflow.getHandle(workflowId).describe()).priority;
const webhookStatus = async (id: string) => (await stack.db('webhooks').where({ id }).first()).status;

async function activeWebhook(org: Org, path: string): Promise<string> {
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${path}`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  await waitFor(async () => (await webhookStatus(created.body.id)) === 'active', 'the webhook to become active');
  return created.body.id;
}

async function ingest(org: Org): Promise<string> {
  const res = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(res.status).toBe(202);
  return res.body.id;
}

it("keys fairness on the organization with its weight, and puts pings and a clicked redelivery first", async () => {
  const org = await stack.createOrg('Fair Co', 'owner@fair.test');
  // Before the organization's first start, so no cached weight stands in for it.
  expect(await organizationsStore.setFairnessWeight(stack.db, org.id, 2.5)).toBe(true);
  const webhookId = await activeWebhook(org, '/fair/one');

  const ping = await stack.db('deliveries').where({ webhook_id: webhookId }).first();
  expect(await priorityOf(deliveryWorkflowId(ping.id))).toEqual({ priorityKey: 1, fairnessKey: org.id, fairnessWeight: 2.5 });

  const eventId = await ingest(org);
  const [live] = await stack.deliveryIdsFor(eventId);
  expect(await priorityOf(deliveryWorkflowId(live))).toEqual({ priorityKey: 3, fairnessKey: org.id, fairnessWeight: 2.5 });
  await waitFor(async () => (await stack.db('deliveries').where({ id: live }).first()).status === 'succeeded', 'the live delivery');

  // Redelivered from the API: a new run, at the interactive priority.
  const redelivered = await stack.api('POST', `/v1/deliveries/${live}/redeliver`, org.apiKey);
  expect(redelivered.status).toBe(202);
  await waitFor(async () => (await priorityOf(deliveryWorkflowId(live)))?.priorityKey === 1, 'the redelivery run');
  expect(await priorityOf(deliveryWorkflowId(live))).toEqual({ priorityKey: 1, fairnessKey: org.id, fairnessWeight: 2.5 });
});

it('gives a recovery a fairness key of its own', async () => {
  const org = await stack.createOrg('Many Co', 'owner@many.test');
  const webhooks = [];
  for (let i = 0; i < 3; i++) webhooks.push(await activeWebhook(org, `/many/${i}`));
  const eventId = await ingest(org);
  const fannedOut = await stack.deliveryIdsFor(eventId);
  for (const id of fannedOut) expect(await priorityOf(deliveryWorkflowId(id))).toEqual({ priorityKey: 3, fairnessKey: org.id, fairnessWeight: 1 });

  // Any success makes a pending webhook active: let the fan-out's deliveries finish before the URL changes.
  await waitFor(async () => (await stack.db('deliveries').where({ event_id: eventId, status: 'succeeded' })).length === fannedOut.length, 'the fan-out deliveries');

  // A skipped delivery (the webhook was inactive), then recovered once the webhook works again.
  const webhookId = webhooks[0];
  pingFails.add('/many/broken');
  expect((await stack.api('PATCH', `/v1/webhooks/${webhookId}`, org.apiKey, { url: `${receiver.url}/many/broken` })).status).toBe(200);
  await waitFor(async () => (await webhookStatus(webhookId)) === 'inactive', 'the webhook to turn inactive');
  const since = new Date(Date.now() - 1000).toISOString();
  const skippedEvent = await ingest(org);
  const skipped = await stack.db('deliveries').where({ webhook_id: webhookId, event_id: skippedEvent }).first();
  expect(skipped.status).toBe('skipped');
  expect((await stack.api('PATCH', `/v1/webhooks/${webhookId}`, org.apiKey, { url: `${receiver.url}/many/0` })).status).toBe(200);
  await waitFor(async () => (await webhookStatus(webhookId)) === 'active', 'the webhook to become active again');

  const started = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since, statuses: ['skipped'] });
  expect(started.status).toBe(202);
  const recovery = { priorityKey: 3, fairnessKey: `${org.id}:recovery`, fairnessWeight: 1 };
  expect(await priorityOf(recoverWorkflowId(webhookId, started.body.recoveryId))).toEqual(recovery);
  await waitFor(async () => (await stack.db('deliveries').where({ id: skipped.id }).first()).status === 'succeeded', 'the recovered delivery');
  expect(await priorityOf(deliveryWorkflowId(skipped.id))).toEqual(recovery);
});

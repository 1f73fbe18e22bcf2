/**
 * A slow endpoint's attempts run as regular activities, so they hold no workflow-task slot while the request is
 * out; fast endpoints keep the local activity (one workflow task per delivery). Decided per attempt from how long
 * the webhook's last attempt took; read back from each delivery's history on the dev server.
 */
import { temporal as proto } from '@temporalio/proto';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { SLOW_ENDPOINT_MS } from '../src/activities/delivery';
import { deliveryWorkflowId } from '../src/workflows/messages';

const EventType = proto.api.enums.v1.EventType;
let stack: Stack;
let receiver: Receiver;
let eventDelayMs = 0;

beforeAll(async () => {
  stack = await createStack();
  receiver = await new Receiver((req) => ({ status: 200, delayMs: req.headers['x-cloudkeep-event'] === 'ping' ? 0 : eventDelayMs })).start();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

/** Ingests one event and waits for its one delivery to succeed; returns how its attempt ran. */
async function deliverOne(org: Org): Promise<{ ran: 'local activity' | 'activity'; attempts: number; requests: number }> {
  const res = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(res.status).toBe(202);
  const [deliveryId] = await stack.deliveryIdsFor(res.body.id);
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the delivery to succeed');
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
  await handle.result();
  const history = (await handle.fetchHistory()).events ?? [];
  const scheduled = history.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  return {
    ran: scheduled.length ? 'activity' : 'local activity',
    attempts: (await stack.db('delivery_attempts').where({ delivery_id: deliveryId })).length,
    requests: receiver.requests.filter((r) => r.headers['x-cloudkeep-delivery'] === deliveryId).length,
  };
}

it('moves a slow endpoint’s attempts off the workflow task, and back once it answers fast again', async () => {
  const org = await stack.createOrg('Slow Co', 'owner@slow.test');
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/slow`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  await waitFor(async () => (await stack.db('webhooks').where({ id: created.body.id }).first()).status === 'active', 'the webhook to become active');

  // Its ping answered at once: the first event's attempt is local, and learns the endpoint is slow.
  eventDelayMs = SLOW_ENDPOINT_MS + 200;
  expect(await deliverOne(org)).toEqual({ ran: 'local activity', attempts: 1, requests: 1 });
  expect((await stack.db('webhooks').where({ id: created.body.id }).first()).last_duration_ms).toBeGreaterThanOrEqual(SLOW_ENDPOINT_MS);
  // Handed over without a request of its own: still one attempt and one request.
  expect(await deliverOne(org)).toEqual({ ran: 'activity', attempts: 1, requests: 1 });

  eventDelayMs = 0;
  expect(await deliverOne(org)).toEqual({ ran: 'activity', attempts: 1, requests: 1 });
  expect(await deliverOne(org)).toEqual({ ran: 'local activity', attempts: 1, requests: 1 });
});

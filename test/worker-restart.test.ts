/**
 * Durability: a worker stopped in the middle of a back-off and started again still completes the delivery. On the dev
 * server, in real time: the new worker has an empty cache, so it rebuilds the run from its history when the 1-minute
 * timer fires. (The time-skipping test server does not give a stopped worker's sticky tasks back to the shared queue,
 * and without a sticky cache every task there dropped the in-flight local attempt and waited out a 10 s task time-out:
 * 14 s to over 7 minutes from run to run.)
 */
import { Receiver } from './support/receiver';
import { createStack, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { deliveryProgressQuery, deliveryWorkflowId } from '../src/workflows/messages';

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

it('survives a worker restart during back-off and delivers on the next attempt', async () => {
  let up = false;
  receiver = await new Receiver((req) => (req.headers['x-cloudkeep-event'] === 'ping' || up ? { status: 200 } : { status: 500 })).start();
  const org = await stack.createOrg();
  const { webhook } = await stack.services.webhooks.create(org.id, { url: receiver.url, destination: 'generic', events: ['secret.created'] });
  await stack.db('webhooks').where({ id: webhook.id }).update({ status: 'active' });
  const { id: eventId } = await stack.services.events.ingest(org.id, { event: 'secret.created', data: secretCreatedData });
  const [deliveryId] = await stack.deliveryIdsFor(eventId);
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));

  // First attempt fails; the workflow is now waiting on its 1-minute timer.
  await waitFor(async () => (await handle.query(deliveryProgressQuery)).status === 'retrying', 'the back-off');
  await stack.stopWorker();
  up = true;
  await stack.startWorker();

  // The timer fires about a minute after the first attempt; the new worker replays the run and attempts again.
  const result = await handle.result();
  expect(result.status).toBe('succeeded');
  const attempts = await stack.db('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');
  expect(attempts.map((a: { response_status: number }) => a.response_status)).toEqual([500, 200]);
  expect((await stack.db('deliveries').where({ id: deliveryId }).first()).status).toBe('succeeded');
}, 180_000);

/**
 * The back-off schedule on durable timers, in workflow time, on Temporal's time-skipping test server.
 */
import { Receiver } from './support/receiver';
import { createStack, secretCreatedData, Stack } from './support/stack';
import { deliveryWorkflowId } from '../src/workflows/messages';

const MINUTE = 60_000;
const EXPECTED_OFFSETS = [0, 1 * MINUTE, 6 * MINUTE, 36 * MINUTE, 156 * MINUTE, 876 * MINUTE]; // +0 … +14 h 36 m
const SLACK_MS = 15_000; // real time spent in attempts (the 10 s timeout at most) adds to workflow time

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await createStack({ timeSkipping: true });
});
afterAll(async () => stack?.close());
afterEach(async () => receiver?.stop());

/** Creates a webhook subscribed to secret.created, ingests one event and returns its delivery id. */
async function deliverOneEvent(url: string): Promise<string> {
  const org = await stack.createOrg();
  const { webhook } = await stack.services.webhooks.create(org.id, { url, destination: 'generic', events: ['secret.created'] });
  // Start from an active webhook: these tests are about the event's delivery, not the creation ping.
  await stack.db('webhooks').where({ id: webhook.id }).update({ status: 'active' });
  const { id } = await stack.services.events.ingest(org.id, { event: 'secret.created', data: secretCreatedData });
  const [deliveryId] = await stack.deliveryIdsFor(id);
  return deliveryId;
}

async function runToEnd(deliveryId: string) {
  const result = await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).result();
  const attempts = await stack.db('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');
  const delivery = await stack.db('deliveries').where({ id: deliveryId }).first();
  return { result, attempts, delivery };
}

const offsets = (attempts: { attempted_at: Date }[]) => attempts.map((a) => a.attempted_at.getTime() - attempts[0].attempted_at.getTime());

it('an always-failing endpoint gets exactly 6 attempts at +0, +1 m, +6 m, +36 m, +2 h 36 m, +14 h 36 m, then failed', async () => {
  receiver = await new Receiver(() => ({ status: 500, body: 'down' })).start();
  const deliveryId = await deliverOneEvent(`${receiver.url}/hook`);
  const { result, attempts, delivery } = await runToEnd(deliveryId);

  expect(result.status).toBe('failed');
  expect(delivery.status).toBe('failed');
  expect(delivery.attempt_count).toBe(6);
  expect(attempts).toHaveLength(6);
  offsets(attempts).forEach((offset, i) => {
    expect(offset).toBeGreaterThanOrEqual(EXPECTED_OFFSETS[i]);
    expect(offset).toBeLessThan(EXPECTED_OFFSETS[i] + SLACK_MS);
  });
  expect(attempts.every((a: { response_status: number; succeeded: boolean }) => a.response_status === 500 && !a.succeeded)).toBe(true);
  const eventRequests = receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'secret.created');
  expect(eventRequests).toHaveLength(6);
  expect(new Set(eventRequests.map((r) => r.headers['x-cloudkeep-delivery']))).toEqual(new Set([deliveryId])); // stable across retries
});

it('an endpoint that fails twice and then answers 200 ends succeeded after 3 attempts', async () => {
  let eventCalls = 0;
  receiver = await new Receiver((req) => {
    if (req.headers['x-cloudkeep-event'] === 'ping') return { status: 200 };
    return ++eventCalls <= 2 ? { status: 503 } : { status: 200, body: 'thanks' };
  }).start();
  const { result, attempts, delivery } = await runToEnd(await deliverOneEvent(receiver.url));

  expect(result.status).toBe('succeeded');
  expect(delivery.status).toBe('succeeded');
  expect(attempts.map((a: { response_status: number }) => a.response_status)).toEqual([503, 503, 200]);
  expect(attempts[2].response_body).toBe('thanks');
  expect(offsets(attempts)[1]).toBeGreaterThanOrEqual(MINUTE);
  expect(offsets(attempts)[2]).toBeGreaterThanOrEqual(6 * MINUTE);
});

it('a redirect (3xx) is a failure and is not followed', async () => {
  let eventCalls = 0;
  receiver = await new Receiver((req) => {
    if (req.path === '/elsewhere') return { status: 200 };
    if (req.headers['x-cloudkeep-event'] === 'ping') return { status: 200 };
    return ++eventCalls === 1 ? { status: 302, headers: { Location: '/elsewhere' } } : { status: 200 };
  }).start();
  const { attempts, delivery } = await runToEnd(await deliverOneEvent(receiver.url));

  expect(attempts).toHaveLength(2);
  expect(attempts[0]).toMatchObject({ response_status: 302, succeeded: false, error: 'Redirect (302) not followed' });
  expect(receiver.requests.some((r) => r.path === '/elsewhere')).toBe(false);
  expect(delivery.status).toBe('succeeded');
});

it('an endpoint that does not answer within 10 s is a failure', async () => {
  let eventCalls = 0;
  receiver = await new Receiver((req) => {
    if (req.headers['x-cloudkeep-event'] === 'ping') return { status: 200 };
    return ++eventCalls === 1 ? 'hang' : { status: 204 };
  }).start();
  const { attempts, delivery } = await runToEnd(await deliverOneEvent(receiver.url));

  expect(attempts).toHaveLength(2);
  expect(attempts[0]).toMatchObject({ response_status: null, succeeded: false, error: 'Timed out after 10 s' });
  expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(10_000);
  expect(attempts[1]).toMatchObject({ response_status: 204, succeeded: true });
  expect(delivery.status).toBe('succeeded');
});

/**
 * A delivery's `attemptCount` counts every try its log shows, including one a crash cut short (logged as
 * interrupted: the receiver may have seen it). It used to move only when an attempt completed, so after a worker's
 * kill -9 it said 1 where the attempts list and the receiver said 2.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createDeliveryActivities, INTERRUPTED_ATTEMPT_ERROR } from '../src/activities/delivery';
import { deliveryAttemptsStore } from '../src/db/stores/delivery-attempts';
import { Receiver } from './support/receiver';
import { createStack, Org, Stack } from './support/stack';

let stack: Stack;
let org: Org;
let receiver: Receiver;
let webhookId: string;
let activities: ReturnType<typeof createDeliveryActivities>;

/** The attempt as the worker runs it: inside an activity's context (its retry count, its cancellation). */
const attempt = (input: Parameters<typeof activities.attemptDelivery>[0]) => new MockActivityEnvironment().run(activities.attemptDelivery, input);

beforeAll(async () => {
  stack = await createStack();
  org = await stack.createOrg();
  receiver = await new Receiver().start();
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/count`, events: ['vault.created'] });
  expect(created.status).toBe(201);
  webhookId = created.body.id;
  activities = createDeliveryActivities({
    db: stack.db,
    temporal: stack.client,
    secretBox: stack.secretBox,
    mailer: null as never, // the attempt sends no mail
    logger: pino({ level: 'silent' }),
    config: { taskQueue: stack.taskQueue, outbound: stack.config.outbound, publicBaseUrl: 'http://127.0.0.1' },
  });
});

afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

/**
 * An event and its delivery written directly, marked dispatched so the outbox leaves them alone (no workflow runs
 * them): the attempts below are the test's own.
 */
async function delivery(id: string): Promise<string> {
  await stack.db('events').insert({ organization_id: org.id, id: `evt_${id}`, type: 'vault.created', timestamp: new Date(), data: JSON.stringify({ vaultId: 'v' }), delivery_count: 1, dispatched_at: new Date() });
  await stack.db('deliveries').insert({ id: `dlv_${id}`, organization_id: org.id, webhook_id: webhookId, event_id: `evt_${id}`, event_type: 'vault.created', status: 'pending' });
  return `dlv_${id}`;
}

/** A try written as in flight (`succeeded` null), as the attempt writes it before its request goes out. */
const inFlight = (deliveryId: string, stepKey: string) =>
  deliveryAttemptsStore.start(stack.db, {
    delivery_id: deliveryId, idempotency_key: stepKey, step_key: stepKey, trigger: 'scheduled', attempted_at: new Date(),
    request_url: `${receiver.url}/count`, request_headers: {}, request_body: '{}',
  });

/** The Delivery Log's view: the detail's `attemptCount` and `attempts`, and the list's `attemptCount`. */
async function logView(deliveryId: string) {
  const detail = await stack.api('GET', `/v1/deliveries/${deliveryId}`, org.apiKey);
  expect(detail.status).toBe(200);
  const list = await stack.api('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`, org.apiKey);
  const listed = list.body.data.find((d: { id: string }) => d.id === deliveryId);
  return { attemptCount: detail.body.attemptCount, attempts: detail.body.attempts.length, listed: listed.attemptCount };
}

it('markInterrupted counts the cut try, once, in PostgreSQL', async () => {
  const id = await delivery('store');
  const cut = await inFlight(id, `run-${id}:scheduled:1`);
  await deliveryAttemptsStore.markInterrupted(stack.db, cut, INTERRUPTED_ATTEMPT_ERROR);
  expect(await logView(id)).toEqual({ attemptCount: 1, attempts: 1, listed: 1 });
  // A retry that finds it closed already adds nothing.
  await deliveryAttemptsStore.markInterrupted(stack.db, cut, INTERRUPTED_ATTEMPT_ERROR);
  expect(await logView(id)).toEqual({ attemptCount: 1, attempts: 1, listed: 1 });
});

it('the step re-run after a crash: the cut try and the re-send both counted, as the receiver saw them', async () => {
  const id = await delivery('resend');
  await inFlight(id, `run-${id}:scheduled:1`);
  const outcome = await attempt({ deliveryId: id, trigger: 'scheduled', attemptedAt: Date.now(), idempotencyKey: `run-${id}:scheduled:1`, retryDelayMs: 60_000, nextAttemptAt: null });
  expect(outcome).toMatchObject({ result: 'succeeded', deliveryStatus: 'succeeded' });
  expect(await stack.db('delivery_attempts').where({ delivery_id: id }).orderBy('number').select('number', 'succeeded', 'error')).toEqual([
    { number: 1, succeeded: false, error: INTERRUPTED_ATTEMPT_ERROR },
    { number: 2, succeeded: true, error: null },
  ]);
  expect(await logView(id)).toEqual({ attemptCount: 2, attempts: 2, listed: 2 });
});

it('a cut try whose re-run finds the webhook deleted is closed and counted too (not sent again)', async () => {
  const id = await delivery('cancelled');
  await inFlight(id, `run-${id}:scheduled:1`);
  const received = receiver.requests.length;
  await stack.db('webhooks').where({ id: webhookId }).update({ deleted_at: new Date() });
  try {
    const outcome = await attempt({ deliveryId: id, trigger: 'scheduled', attemptedAt: Date.now(), idempotencyKey: `run-${id}:scheduled:1`, retryDelayMs: 60_000, nextAttemptAt: null });
    expect(outcome).toMatchObject({ result: 'cancelled', deliveryStatus: 'cancelled' });
    const [row] = await stack.db('deliveries').where({ id });
    const attempts = await stack.db('delivery_attempts').where({ delivery_id: id });
    expect({ status: row.status, attemptCount: row.attempt_count, attempts: attempts.map((a) => [a.succeeded, a.error]) }).toEqual({
      status: 'cancelled',
      attemptCount: 1,
      attempts: [[false, expect.stringMatching(/^Interrupted: .*not sent again \(Webhook deleted\)$/)]],
    });
    expect(receiver.requests.length).toBe(received);
  } finally {
    await stack.db('webhooks').where({ id: webhookId }).update({ deleted_at: null });
  }
});

/**
 * Redelivery through the `redeliver` signal, on Temporal's time-skipping test server. Time stands still
 * unless the test lets it pass (env.sleep), so a delivery waits in its 1-minute back-off while we act.
 */
import { Receiver, ReceivedRequest, Responder } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { deliveryWorkflowId } from '../src/workflows/messages';

const MINUTE = 60_000;
const SLACK_MS = 15_000; // real time spent in attempts adds to workflow time

let stack: Stack;
let receiver: Receiver | undefined;

beforeAll(async () => {
  stack = await createStack({ timeSkipping: true });
});
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});
afterAll(async () => stack?.close());

/** Completed attempts (an attempt is written before its request goes out, and completed after). */
const attemptsOf = (deliveryId: string) => stack.db('delivery_attempts').where({ delivery_id: deliveryId }).whereNotNull('succeeded').orderBy('number');
const eventRequests = (r: Receiver): ReceivedRequest[] => r.requests.filter((q) => q.headers['x-cloudkeep-event'] === 'secret.created');

/** An org with one active webhook at a receiver (pings answered 200, events as `respond` says) and one ingested event. */
async function deliveryTo(respond: Responder): Promise<{ org: Org; webhookId: string; deliveryId: string; eventId: string }> {
  receiver = await new Receiver((req, i) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : respond(req, i))).start();
  const org = await stack.createOrg();
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/hook`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  await waitFor(async () => (await stack.db('webhooks').where({ id: created.body.id }).first()).status === 'active', 'the ping to make the webhook active');
  const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(ingest.status).toBe(202);
  expect(ingest.body.deliveries).toBe(1);
  const delivery = await waitFor(() => stack.db('deliveries').where({ event_id: ingest.body.id }).first(), 'the delivery row');
  return { org, webhookId: created.body.id, deliveryId: delivery.id, eventId: ingest.body.id };
}

it('a delivery waiting in back-off is attempted at once on redeliver, then keeps its schedule', async () => {
  const { org, deliveryId } = await deliveryTo(() => ({ status: 500, body: 'still down' }));
  const [first] = await waitFor(async () => {
    const attempts = await attemptsOf(deliveryId);
    return attempts.length === 1 && (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'retrying' ? attempts : null;
  }, 'the first attempt to fail and the delivery to wait');

  const res = await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ deliveryId, status: 'retrying' });

  // Workflow time has not been allowed to move: only the signal can have caused this attempt.
  const attempts = await waitFor(async () => ((await attemptsOf(deliveryId)).length >= 2 ? attemptsOf(deliveryId) : null), 'the manual attempt');
  expect(attempts).toHaveLength(2);
  expect(attempts[1]).toMatchObject({ number: 2, trigger: 'manual', response_status: 500, succeeded: false });
  const manualOffset = attempts[1].attempted_at.getTime() - first.attempted_at.getTime();
  expect(manualOffset).toBeGreaterThanOrEqual(0);
  expect(manualOffset).toBeLessThan(MINUTE);
  expect(eventRequests(receiver!)).toHaveLength(2);
  expect(new Set(eventRequests(receiver!).map((q) => q.headers['x-cloudkeep-delivery']))).toEqual(new Set([deliveryId]));

  // Still waiting for retry 1, due a minute after the first attempt.
  const waiting = await stack.db('deliveries').where({ id: deliveryId }).first();
  expect(waiting).toMatchObject({ status: 'retrying', attempt_count: 2 });
  const dueOffset = waiting.next_attempt_at.getTime() - first.attempted_at.getTime();
  expect(dueOffset).toBeGreaterThanOrEqual(MINUTE);
  expect(dueOffset).toBeLessThan(MINUTE + SLACK_MS);

  // Let two minutes of workflow time pass: retry 1 comes at +1 m, retry 2 (at +6 m) not yet.
  await stack.env!.sleep('2 minutes');
  const after = await waitFor(async () => ((await attemptsOf(deliveryId)).length >= 3 ? attemptsOf(deliveryId) : null), 'scheduled retry 1');
  expect(after).toHaveLength(3);
  expect(after[2]).toMatchObject({ number: 3, trigger: 'scheduled', succeeded: false });
  const retryOffset = after[2].attempted_at.getTime() - first.attempted_at.getTime();
  expect(retryOffset).toBeGreaterThanOrEqual(MINUTE);
  expect(retryOffset).toBeLessThan(MINUTE + SLACK_MS);
  const next = await stack.db('deliveries').where({ id: deliveryId }).first();
  expect(next.status).toBe('retrying');
  expect(next.next_attempt_at.getTime() - after[2].attempted_at.getTime()).toBeGreaterThanOrEqual(5 * MINUTE);
});

it('a finished delivery is re-sent by a new run of the same workflow id: same event, identical body, both attempts in the log', async () => {
  const { org, deliveryId, eventId } = await deliveryTo(() => ({ status: 200, body: 'got it' }));
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the delivery to succeed');
  // At once, as a user clicking in the log would: the run may still be closing.
  const firstRun = await handle.describe();

  const res = await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ deliveryId, status: 'pending' });

  await waitFor(async () => (await attemptsOf(deliveryId)).length === 2 && (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the redelivery to succeed');
  const secondRun = await handle.describe();
  expect(secondRun.workflowId).toBe(`delivery:${deliveryId}`);
  expect(secondRun.runId).not.toBe(firstRun.runId);
  expect((await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId), firstRun.runId).describe()).status.name).toBe('COMPLETED');

  const [original, resent] = eventRequests(receiver!);
  expect(eventRequests(receiver!)).toHaveLength(2);
  expect(resent.body).toBe(original.body); // byte for byte
  expect(JSON.parse(resent.body).id).toBe(eventId);
  expect(resent.headers['x-cloudkeep-delivery']).toBe(deliveryId);
  expect(resent.headers['x-cloudkeep-signature-256']).toBe(original.headers['x-cloudkeep-signature-256']);

  const detail = await stack.api('GET', `/v1/deliveries/${deliveryId}`, org.apiKey);
  expect(detail.status).toBe(200);
  expect(detail.body).toMatchObject({ id: deliveryId, eventId, status: 'succeeded', attemptCount: 2, completedAt: expect.any(String) });
  // The re-send is the one the user asked for: the log says so.
  expect(detail.body.attempts).toEqual([
    expect.objectContaining({ number: 1, trigger: 'scheduled', succeeded: true, response: { status: 200, body: 'got it' }, request: expect.objectContaining({ body: original.body }) }),
    expect.objectContaining({ number: 2, trigger: 'manual', succeeded: true, response: { status: 200, body: 'got it' }, request: expect.objectContaining({ body: original.body }) }),
  ]);
});

it('a finished delivery re-sent on request to an endpoint that now fails: the asked-for attempt is manual, then the schedule runs again with no extra send', async () => {
  let sends = 0;
  const { org, deliveryId } = await deliveryTo(() => ({ status: ++sends === 1 ? 200 : 503 }));
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the delivery to succeed');

  const res = await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey);
  expect(res.status).toBe(202);
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'retrying', 'the re-send to fail and wait for its retry');
  // The request that started the run is answered by its first attempt: no second, immediate attempt for it.
  expect(await attemptsOf(deliveryId)).toHaveLength(2);
  expect(eventRequests(receiver!)).toHaveLength(2);

  await stack.env!.sleep(MINUTE + SLACK_MS);
  await waitFor(async () => (await attemptsOf(deliveryId)).length >= 3, 'the first retry of the new run');
  const attempts = await attemptsOf(deliveryId);
  expect(attempts.map((a) => [a.number, a.trigger, a.succeeded])).toEqual([
    [1, 'scheduled', true],
    [2, 'manual', false],
    [3, 'scheduled', false],
  ]);
  // The retry came after the back-off's first step, measured from the asked-for attempt.
  expect(attempts[2].attempted_at.getTime() - attempts[1].attempted_at.getTime()).toBeGreaterThanOrEqual(MINUTE);
});

it('redelivering to a disabled webhook answers 409 naming the webhook, and sends nothing', async () => {
  const { org, webhookId, deliveryId } = await deliveryTo(() => ({ status: 200 }));
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the delivery to succeed');
  await stack.db('webhooks').where({ id: webhookId }).update({ status: 'disabled', status_reason: 'Failing for 3 consecutive days' });
  const before = await stack.db('deliveries').where({ id: deliveryId }).first();
  const runBefore = (await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe()).runId;

  const res = await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey);
  expect(res.status).toBe(409);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body.errors).toEqual([{ field: 'webhook', message: expect.stringContaining('disabled') }]);

  expect(await stack.db('deliveries').where({ id: deliveryId }).first()).toEqual(before);
  expect((await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe()).runId).toBe(runBefore);
  expect(await attemptsOf(deliveryId)).toHaveLength(1);
  expect(eventRequests(receiver!)).toHaveLength(1);
});

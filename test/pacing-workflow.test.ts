/**
 * The delivery workflow's side of pacing, in workflow time on the time-skipping test server, with a scripted
 * attempt activity (the real one, with PostgreSQL's clock, is exercised by test/rate-limit-per-endpoint.test.ts):
 * a `paced` outcome is waited out on a durable timer and the same step is attempted again with its slot reserved;
 * a receiver's Retry-After still sets the back-off, and the retry is then paced like any attempt; a stop ends a
 * paced wait at once.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal as proto } from '@temporalio/proto';
import type { AttemptInput, AttemptOutcome } from '../src/activities/delivery';
import { installRuntime } from '../src/temporal-connection';
import { deliveryWorkflow } from '../src/workflows/delivery';
import { SEARCH_ATTRIBUTE_KEYS, stopDeliverySignal } from '../src/workflows/messages';
import { waitBeforeRetry } from '../src/workflows/schedule';
import { waitFor } from './support/wait';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const calls: AttemptInput[] = [];
let script: ((input: AttemptInput) => AttemptOutcome)[] = [];

const outcome = (o: Partial<AttemptOutcome> & Pick<AttemptOutcome, 'result' | 'deliveryStatus'>): AttemptOutcome => ({ status: null, error: null, nextDelayMs: null, ...o });

beforeAll(async () => {
  installRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: process.env.TEST_TIME_SKIPPING_SERVER! } } });
  // The workflow upserts DeliveryStatus: the server must know our search attributes.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'pacing',
    workflowsPath: require.resolve('../src/workflows'),
    activities: {
      async attemptDelivery(input: AttemptInput): Promise<AttemptOutcome> {
        calls.push(input);
        const next = script.shift();
        if (!next) throw new Error(`unscripted attempt ${JSON.stringify(input)}`);
        return next(input);
      },
      async cancelDelivery(): Promise<void> {},
    },
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

beforeEach(() => {
  calls.length = 0;
  script = [];
});

const start = (id: string) =>
  env.client.workflow.start(deliveryWorkflow, { workflowId: `delivery:${id}`, taskQueue: 'pacing', args: [{ deliveryId: id, webhookId: 'wh_paced', eventType: 'secret.created' }] });

it('a 429 Retry-After still sets the back-off; the retry is then paced on a durable timer and sent with its slot reserved', async () => {
  const retryAfterMs = 600_000; // Retry-After: 600 beats the schedule's 1-minute step
  script = [
    () => outcome({ result: 'failed', deliveryStatus: 'retrying', status: 429, error: 'HTTP 429', nextDelayMs: waitBeforeRetry(60_000, retryAfterMs) }),
    () => outcome({ result: 'paced', deliveryStatus: 'retrying', notBefore: Date.now() + 30_000, waitMs: 30_000 }),
    () => outcome({ result: 'succeeded', deliveryStatus: 'succeeded', status: 200 }),
  ];
  const handle = await start('dlv_retry_after');
  const progress = await handle.result();

  expect(progress).toMatchObject({ status: 'succeeded', scheduledAttempts: 2, manualAttempts: 0 });
  expect(calls).toHaveLength(3);
  const [first, retry, sent] = calls;
  expect(first.slotReserved).toBeUndefined();
  expect(retry.attemptedAt - first.attemptedAt).toBeGreaterThanOrEqual(retryAfterMs);
  expect(retry.slotReserved).toBeUndefined();
  // The paced retry is the same step, attempted again once its slot comes, without reserving another.
  expect(sent).toMatchObject({ idempotencyKey: retry.idempotencyKey, trigger: 'scheduled', slotReserved: true });
  expect(sent.attemptedAt - retry.attemptedAt).toBeGreaterThanOrEqual(30_000);

  const timers = (await handle.fetchHistory()).events!.filter((e) => e.timerStartedEventAttributes);
  expect(timers).toHaveLength(2); // the back-off, then the pacing wait
}, 60_000);

it('a stop (webhook deleted) ends a paced wait at once, and the attempt that follows cancels', async () => {
  script = [
    () => outcome({ result: 'paced', deliveryStatus: 'pending', notBefore: Date.now() + 3_600_000, waitMs: 3_600_000 }),
    () => outcome({ result: 'cancelled', deliveryStatus: 'cancelled', error: 'Webhook deleted' }),
  ];
  const handle = await start('dlv_stopped');
  // Signalled once the first attempt has been made (before it, a stop would end the delivery without one).
  await waitFor(() => calls.length === 1, 'the first attempt');
  await handle.signal(stopDeliverySignal, { reason: 'Webhook deleted' });
  const progress = await handle.result();

  expect(progress.status).toBe('cancelled');
  expect(calls).toHaveLength(2);
  expect(calls[1]).toMatchObject({ slotReserved: true, idempotencyKey: calls[0].idempotencyKey });
  expect(calls[1].attemptedAt - calls[0].attemptedAt).toBeLessThan(3_600_000);
}, 60_000);

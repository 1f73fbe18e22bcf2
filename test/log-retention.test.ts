/**
 * Delivery Log retention on real PostgreSQL and the Temporal dev server: the prune in batches (finished
 * deliveries and their attempts past the cutoff go, pending/retrying ones stay whatever their age, events
 * go once unreferenced), the daily schedule created idempotently and triggered for real, and the
 * namespace's history retention set to match.
 */
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { pruneDeliveryLog } from '../src/db/log-retention';
import { applyNamespaceRetention, ensureLogRetentionSchedule } from '../src/services/retention-schedule';
import { logRetentionScheduleId } from '../src/workflows/messages';
import { Receiver } from './support/receiver';
import { createStack, Stack } from './support/stack';
import { waitFor } from './support/wait';

const DAY = 24 * 60 * 60 * 1000;
let stack: Stack;
let receiver: Receiver;
let organizationId: string;
let webhookId: string;
let fixtures = 0;

beforeAll(async () => {
  receiver = await new Receiver().start();
  stack = await createStack();
  const org = await stack.createOrg();
  organizationId = org.id;
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/kept`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  webhookId = created.body.id;
});
afterAll(async () => {
  await stack?.close();
  await receiver?.stop();
});

/** An event with one delivery of the given status and age, and `attempts` attempt rows. */
async function seed(o: { ageDays: number; status: string; attempts: number; eventAgeDays?: number; completedAgeDays?: number }) {
  const n = ++fixtures;
  const at = new Date(Date.now() - o.ageDays * DAY);
  const eventAt = new Date(Date.now() - (o.eventAgeDays ?? o.ageDays) * DAY);
  const eventId = `evt_seed${n}`;
  const deliveryId = `dlv_seed${n}`;
  await stack.db('events').insert({ organization_id: organizationId, id: eventId, type: 'secret.created', timestamp: eventAt, data: '{}', delivery_count: 1, received_at: eventAt, dispatched_at: eventAt });
  await stack.db('deliveries').insert({ id: deliveryId, organization_id: organizationId, webhook_id: webhookId, event_id: eventId, event_type: 'secret.created', status: o.status, attempt_count: o.attempts, created_at: at, updated_at: at,
    completed_at: ['succeeded', 'failed', 'cancelled'].includes(o.status) ? new Date(Date.now() - (o.completedAgeDays ?? o.ageDays) * DAY) : null });
  for (let i = 0; i < o.attempts; i++) {
    await stack.db('delivery_attempts').insert({
      delivery_id: deliveryId, number: i + 1, idempotency_key: `seed${n}:${i}`, step_key: `seed${n}:${i}`, trigger: 'scheduled', attempted_at: at, request_url: 'http://127.0.0.1/x',
      request_headers: '{}', request_body: '{}', response_status: 500, duration_ms: 1, succeeded: false,
    });
  }
  return { eventId, deliveryId };
}

const exists = async (table: string, where: Record<string, string>) => Boolean(await stack.db(table).where(where).first());

it('prunes finished deliveries, their attempts and unreferenced events past the cutoff, in batches, and keeps the rest', async () => {
  const oldSucceeded = await Promise.all([0, 1, 2].map(() => seed({ ageDays: 40, status: 'succeeded', attempts: 2 })));
  const oldFailed = await seed({ ageDays: 35, status: 'failed', attempts: 6 });
  const oldCancelled = await seed({ ageDays: 31, status: 'cancelled', attempts: 1 });
  const oldRetrying = await seed({ ageDays: 40, status: 'retrying', attempts: 3 });
  const oldPending = await seed({ ageDays: 40, status: 'pending', attempts: 0 });
  const recent = await seed({ ageDays: 29, status: 'failed', attempts: 6 });
  // Created long ago, redelivered, finished yesterday: its retention counts from then.
  const redelivered = await seed({ ageDays: 45, status: 'succeeded', attempts: 7, completedAgeDays: 1 });
  const events = await stack.db('events').count<{ count: string }[]>('* as count');
  const batches: number[] = [];

  const result = await pruneDeliveryLog(stack.db, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 2, onBatch: (r) => batches.push(r.deliveries) });

  expect(result).toEqual({ deliveries: 5, attempts: 3 * 2 + 6 + 1, events: 5 });
  expect(batches.length).toBeGreaterThanOrEqual(4); // 5 deliveries in batches of 2, then the events
  for (const gone of [...oldSucceeded, oldFailed, oldCancelled]) {
    expect(await exists('deliveries', { id: gone.deliveryId })).toBe(false);
    expect(await exists('delivery_attempts', { delivery_id: gone.deliveryId })).toBe(false);
    expect(await exists('events', { id: gone.eventId })).toBe(false);
  }
  for (const kept of [oldRetrying, oldPending, recent, redelivered]) {
    expect(await exists('deliveries', { id: kept.deliveryId })).toBe(true);
    expect(await exists('events', { id: kept.eventId })).toBe(true);
  }
  expect(await stack.db('delivery_attempts').where({ delivery_id: oldRetrying.deliveryId }).count<{ count: string }[]>('* as count')).toEqual([{ count: '3' }]);
  expect(Number((await stack.db('events').count<{ count: string }[]>('* as count'))[0].count)).toBe(Number(events[0].count) - 5);

  // Nothing left to prune: a second run deletes nothing.
  expect(await pruneDeliveryLog(stack.db, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 2 })).toEqual({ deliveries: 0, attempts: 0, events: 0 });
});

it('a daily schedule, created idempotently at worker start, prunes the log when it fires', async () => {
  const old = await seed({ ageDays: 10, status: 'succeeded', attempts: 1 });
  const young = await seed({ ageDays: 3, status: 'succeeded', attempts: 1 });

  await ensureLogRetentionSchedule(stack.client, { taskQueue: stack.taskQueue, retentionDays: 30 });
  await ensureLogRetentionSchedule(stack.client, { taskQueue: stack.taskQueue, retentionDays: 7 }); // a second start, a changed setting
  const handle = stack.client.schedule.getHandle(logRetentionScheduleId(stack.taskQueue));
  const described = await handle.describe();
  expect(described.action.type).toBe('startWorkflow');
  expect(described.action.workflowType).toBe('deliveryLogRetentionWorkflow');
  expect(described.action.args).toEqual([{ retentionDays: 7 }]);
  expect(described.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 17, end: 17, step: 1 }] })]);

  await handle.trigger();
  const action = await waitFor(async () => (await handle.describe()).info.recentActions[0]?.action, 'the triggered prune to start');
  const result = await stack.client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId).result();
  // With 7 days, the 29-day-old failed delivery the first test kept (6 attempts) goes too; the redelivered one stays.
  expect(result).toMatchObject({ deliveries: 2, attempts: 1 + 6, events: 2 });
  expect(await exists('deliveries', { id: old.deliveryId })).toBe(false);
  expect(await exists('deliveries', { id: young.deliveryId })).toBe(true);
  await handle.delete();
});

it('sets the Temporal namespace retention to the same number of days', async () => {
  const connection = stack.client.connection;
  const before = await connection.workflowService.describeNamespace({ namespace: 'default' });
  await applyNamespaceRetention(connection, 'default', 30);
  const after = await connection.workflowService.describeNamespace({ namespace: 'default' });
  expect(tsToMs(after.config!.workflowExecutionRetentionTtl)).toBe(30 * DAY);
  // Leave the shared dev server as it was.
  await connection.workflowService.updateNamespace({ namespace: 'default', config: { workflowExecutionRetentionTtl: before.config!.workflowExecutionRetentionTtl ?? msToTs(DAY) } });
});

/**
 * Recover: events that matched while a webhook was inactive are kept as `skipped` deliveries; failed and skipped
 * deliveries since a time are re-delivered, oldest first, by a recover workflow through the normal delivery
 * workflows, in bounded batches (continuing as new), with its progress in the API and as a query.
 * Failed deliveries take 14 h 36 m of back-off: that part runs on the time-skipping server.
 */
import { Receiver, ReceivedRequest } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';
import { temporal as proto } from '@temporalio/proto';
import { RecoveryService } from '../src/services/recoveries';
import { SmtpSink } from './support/smtp';
import { attemptOutcomeSignal, deliveryWorkflowId, recoverWorkflowId, recoveryProgressQuery, webhookHealthQuery, webhookHealthWorkflowId } from '../src/workflows/messages';

const HOUR = 3_600_000;
const EventType = proto.api.enums.v1.EventType;

let receiver: Receiver;
/** Per path: what events get (200 unless listed); pings to a path in `pingFails` get 503. */
const eventStatus = new Map<string, number>();
const pingFails = new Set<string>();

beforeAll(async () => {
  receiver = await new Receiver((req) => {
    if (req.headers['x-cloudkeep-event'] === 'ping') return { status: pingFails.has(req.path) ? 503 : 200 };
    return { status: eventStatus.get(req.path) ?? 200 };
  }).start();
});
afterAll(async () => receiver?.stop());

const eventRequests = (path: string): ReceivedRequest[] => receiver.requests.filter((r) => r.path === path && r.headers['x-cloudkeep-event'] === 'secret.created');
const eventIdOf = (r: ReceivedRequest) => JSON.parse(r.body).id as string;

function helpers(stack: () => Stack) {
  const webhookRow = async (id: string) => stack().db('webhooks').where({ id }).first();
  const deliveryOf = async (webhookId: string, eventId: string) => stack().db('deliveries').where({ webhook_id: webhookId, event_id: eventId }).first();
  async function activeWebhook(org: Org, path: string): Promise<string> {
    const created = await stack().api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${path}`, events: ['secret.created'] });
    expect(created.status).toBe(201);
    await waitFor(async () => (await webhookRow(created.body.id)).status === 'active', 'the webhook to become active');
    return created.body.id;
  }
  async function ingest(org: Org): Promise<{ id: string; deliveries: number }> {
    const res = await stack().api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
    expect(res.status).toBe(202);
    return res.body;
  }
  /** Moves the webhook to a URL whose pings fail: it turns inactive (the real path, through its ping). */
  async function makeInactive(org: Org, webhookId: string, brokenPath: string): Promise<void> {
    pingFails.add(brokenPath);
    const res = await stack().api('PATCH', `/v1/webhooks/${webhookId}`, org.apiKey, { url: `${receiver.url}${brokenPath}` });
    expect(res.status).toBe(200);
    await waitFor(async () => (await webhookRow(webhookId)).status === 'inactive', 'the webhook to turn inactive');
  }
  /** Back to a working URL: pending, then active once its ping answers. */
  async function fix(org: Org, webhookId: string, path: string): Promise<void> {
    const res = await stack().api('PATCH', `/v1/webhooks/${webhookId}`, org.apiKey, { url: `${receiver.url}${path}` });
    expect(res.status).toBe(200);
    await waitFor(async () => (await webhookRow(webhookId)).status === 'active', 'the webhook to become active again');
  }
  async function recoveryDone(org: Org, webhookId: string, recoveryId: string) {
    return waitFor(async () => {
      const res = await stack().api('GET', `/v1/webhooks/${webhookId}/recoveries/${recoveryId}`, org.apiKey);
      return res.body?.status === 'completed' ? res.body : null;
    }, 'the recovery to complete');
  }
  return { webhookRow, deliveryOf, activeWebhook, ingest, makeInactive, fix, recoveryDone };
}

/** Waits until `t` (epoch ms) has passed on the wall clock, so `since` separates rows created before and after. */
async function after(t: Date): Promise<Date> {
  await waitFor(() => Date.now() > t.getTime() + 5, 'the clock to move on', 5_000, 5);
  return new Date();
}

describe('recovering failed and skipped deliveries', () => {
  let stack: Stack;
  const h = helpers(() => stack);
  beforeAll(async () => {
    stack = await createStack({ timeSkipping: true });
  });
  afterAll(async () => stack?.close());

  it('re-delivers every failed and skipped delivery since a time, oldest first, and nothing else', async () => {
    const org = await stack.createOrg('Recover Co', 'owner@recover.test');
    const path = '/recover/main';
    const webhookId = await h.activeWebhook(org, path);
    eventStatus.set(path, 503);

    // e0 fails before `since`; e1 and e2 fail after it.
    const e0 = await h.ingest(org);
    const since = await after((await h.deliveryOf(webhookId, e0.id)).created_at);
    const e1 = await h.ingest(org);
    const e2 = await h.ingest(org);
    await waitFor(async () => (await stack.db('deliveries').where({ webhook_id: webhookId, status: 'retrying' })).length === 3, 'three deliveries in back-off');
    await stack.env!.sleep(15 * HOUR); // past the last retry (14 h 36 m)
    await waitFor(async () => (await stack.db('deliveries').where({ webhook_id: webhookId, status: 'failed' })).length === 3, 'three failed deliveries');
    expect(eventRequests(path)).toHaveLength(18);

    // While inactive, matching events are kept as skipped: no workflow, no request, not counted in the 202.
    await h.makeInactive(org, webhookId, '/recover/broken');
    const e3 = await h.ingest(org);
    const e4 = await h.ingest(org);
    expect([e3.deliveries, e4.deliveries]).toEqual([0, 0]);
    for (const e of [e3, e4]) {
      const row = await h.deliveryOf(webhookId, e.id);
      expect(row).toMatchObject({ status: 'skipped', attempt_count: 0 });
      await expect(stack.client.workflow.getHandle(deliveryWorkflowId(row.id)).describe()).rejects.toThrow();
    }
    const skippedLog = await stack.api('GET', `/v1/webhooks/${webhookId}/deliveries?status=skipped`, org.apiKey);
    expect(skippedLog.body.data.map((d: { eventId: string; status: string }) => [d.eventId, d.status])).toEqual([[e4.id, 'skipped'], [e3.id, 'skipped']]);
    expect(eventRequests('/recover/broken')).toHaveLength(0);

    // Recovering an inactive webhook is refused: fix it first.
    const refused = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since: since.toISOString() });
    expect(refused.status).toBe(409);
    expect(refused.contentType).toContain('application/problem+json');
    expect(await stack.db('webhook_recoveries').where({ webhook_id: webhookId })).toHaveLength(0);

    eventStatus.set(path, 200);
    await h.fix(org, webhookId, path);
    const count = (query: string) => stack.api('GET', `/v1/webhooks/${webhookId}/recoverable?${query}`, org.apiKey).then((r) => r.body);
    expect(await count(`since=${since.toISOString()}`)).toEqual({ count: 4, since: since.toISOString(), statuses: ['failed', 'skipped'] });
    expect(await count(`since=${since.toISOString()}&statuses=failed`)).toMatchObject({ count: 2, statuses: ['failed'] });
    expect(await count(`since=${since.toISOString()}&statuses=skipped,failed`)).toMatchObject({ count: 4, statuses: ['failed', 'skipped'] });
    expect(await count(`since=${new Date(since.getTime() - HOUR).toISOString()}`)).toMatchObject({ count: 5 });

    const started = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since: since.toISOString() });
    expect(started.status).toBe(202);
    expect(started.body).toEqual({
      recoveryId: expect.stringMatching(/^rcv_/),
      since: since.toISOString(),
      statuses: ['failed', 'skipped'],
      total: 4,
      status: 'running',
      temporalUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(recoverWorkflowId(webhookId, started.body.recoveryId))}`,
    });
    const done = await h.recoveryDone(org, webhookId, started.body.recoveryId);
    expect(done).toEqual({ ...started.body, started: 4, status: 'completed' });

    // Each recovered delivery succeeded through its own workflow; e0, before `since`, is still failed.
    const recovered = [e1, e2, e3, e4];
    for (const e of recovered) {
      await waitFor(async () => (await h.deliveryOf(webhookId, e.id)).status === 'succeeded', `the recovered delivery of ${e.id}`);
    }
    expect((await h.deliveryOf(webhookId, e0.id)).status).toBe('failed');
    const newRequests = eventRequests(path).slice(18);
    expect(newRequests.map(eventIdOf).sort()).toEqual(recovered.map((e) => e.id).sort());
    // Oldest first: the delivery workflows were started in the order the deliveries were created.
    const startTimes = [];
    for (const e of recovered) {
      const row = await h.deliveryOf(webhookId, e.id);
      startTimes.push((await stack.client.workflow.getHandle(deliveryWorkflowId(row.id)).describe()).startTime.getTime());
    }
    expect([...startTimes].sort((a, b) => a - b)).toEqual(startTimes);
    // A failed delivery's recovery is a new run of the same workflow, its attempts numbered on in the same log entry.
    const e1Attempts = await stack.db('delivery_attempts').where({ delivery_id: (await h.deliveryOf(webhookId, e1.id)).id }).orderBy('number');
    expect(e1Attempts.map((a: { number: number; succeeded: boolean }) => [a.number, a.succeeded])).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, n === 7]));

    // The workflow answers its progress query and has a summary for the Temporal UI.
    const handle = stack.client.workflow.getHandle(recoverWorkflowId(webhookId, started.body.recoveryId));
    expect(await handle.result()).toEqual({ total: 4, started: 4, status: 'completed' });
    expect(await handle.query(recoveryProgressQuery)).toEqual({ total: 4, started: 4, status: 'completed' });

    // Nothing left: a second recovery finds nothing and completes at once.
    expect(await count(`since=${since.toISOString()}`)).toMatchObject({ count: 0 });
    const again = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since: since.toISOString(), statuses: ['skipped'] });
    expect(again.body).toMatchObject({ total: 0, statuses: ['skipped'] });
    expect(await h.recoveryDone(org, webhookId, again.body.recoveryId)).toMatchObject({ started: 0 });
    expect(eventRequests(path)).toHaveLength(22);
  });
});

describe('a recovery on the dev server', () => {
  let stack: Stack;
  let smtp: SmtpSink;
  const h = helpers(() => stack);
  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    stack = await createStack({ smtpUrl: smtp.url });
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.stop();
  });

  it('after a disable by the health rule: events are skipped, enable answers what can be recovered since the streak began, recover sends it', async () => {
    const org = await stack.createOrg('Outage Co', 'owner@outage.test');
    const path = '/outage/main';
    const webhookId = await h.activeWebhook(org, path);
    // Failures on the last three days and today, in wall-clock time: the health workflow closes each day as the
    // next one's outcome arrives and disables after the third.
    const health = stack.client.workflow.getHandle(webhookHealthWorkflowId(webhookId));
    const today = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR;
    const failures = [3, 2, 1, 0].map((daysAgo) => today - daysAgo * 24 * HOUR + (daysAgo ? 10 * HOUR : 1));
    for (const [i, at] of failures.entries()) {
      await health.signal(attemptOutcomeSignal, { deliveryId: `dlv_outage_${i}`, succeeded: false, at, status: 500, error: 'HTTP 500' });
    }
    await waitFor(async () => (await h.webhookRow(webhookId)).status === 'disabled', 'the disable');
    const failingSince = new Date(failures[0]).toISOString();
    expect(await health.query(webhookHealthQuery)).toMatchObject({ disabled: true, failingSince });
    // All at once, so straight to the disable email: a warning after the disable would say nothing new.
    await waitFor(() => smtp.to('owner@outage.test').length === 1, 'the disable email');
    expect(smtp.to('owner@outage.test').map((m) => m.subject.split(':')[0])).toEqual(['CloudKeep webhook disabled']);

    // While disabled, matching events are kept as skipped; recovering is refused until re-enabled.
    const missed = [(await h.ingest(org)).id, (await h.ingest(org)).id];
    for (const id of missed) expect((await h.deliveryOf(webhookId, id)).status).toBe('skipped');
    const early = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since: failingSince });
    expect(early.status).toBe(409);
    expect(early.body.errors).toEqual([{ field: 'status', message: 'the webhook is disabled; re-enable it before recovering' }]);

    const enabled = await stack.api('POST', `/v1/webhooks/${webhookId}/enable`, org.apiKey);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: webhookId, status: 'pending', recoverable: { count: 2, since: failingSince } });
    await waitFor(async () => (await h.webhookRow(webhookId)).status === 'active', 'the re-enable ping');
    const recovery = await stack.api('POST', `/v1/webhooks/${webhookId}/recover`, org.apiKey, { since: enabled.body.recoverable.since });
    expect(recovery.body).toMatchObject({ total: 2, status: 'running' });
    await h.recoveryDone(org, webhookId, recovery.body.recoveryId);
    for (const id of missed) await waitFor(async () => (await h.deliveryOf(webhookId, id)).status === 'succeeded', 'the recovered delivery');
    expect(eventRequests(path).map(eventIdOf).sort()).toEqual([...missed].sort());
  });

  it('a skipped delivery can also be redelivered on its own, once the webhook is back', async () => {
    const org = await stack.createOrg('Single Co', 'owner@single.test');
    const path = '/single/main';
    const webhookId = await h.activeWebhook(org, path);
    await h.makeInactive(org, webhookId, '/single/broken');
    const { id: eventId } = await h.ingest(org);
    const skipped = await h.deliveryOf(webhookId, eventId);
    expect(skipped.status).toBe('skipped');
    await h.fix(org, webhookId, path);
    const res = await stack.api('POST', `/v1/deliveries/${skipped.id}/redeliver`, org.apiKey);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ deliveryId: skipped.id, status: 'pending' });
    await waitFor(async () => (await h.deliveryOf(webhookId, eventId)).status === 'succeeded', 'the redelivered skipped delivery');
    expect(eventRequests(path).map(eventIdOf)).toEqual([eventId]);
  });

  it('pages in bounded batches, continuing as new, and re-delivers each skipped delivery exactly once', async () => {
    const org = await stack.createOrg('Paging Co', 'owner@paging.test');
    const path = '/paging/main';
    const webhookId = await h.activeWebhook(org, path);
    const since = new Date();
    await h.makeInactive(org, webhookId, '/paging/broken');
    const events = [];
    for (let i = 0; i < 7; i++) events.push((await h.ingest(org)).id);
    await h.fix(org, webhookId, path);

    // Batches of 2, 2 batches per run: 4 batches over 2 runs.
    const view = await stack.services.recoveries.start(org.id, webhookId, { since: since.toISOString(), statuses: ['skipped'] }, { batchSize: 2, maxBatchesPerRun: 2 });
    expect(view.row.total).toBe(7);
    const handle = stack.client.workflow.getHandle(recoverWorkflowId(webhookId, view.row.id));
    expect(await handle.result()).toEqual({ total: 7, started: 7, status: 'completed' });
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails: string };
    expect(metadata.currentDetails).toBe(`Recovery ${view.row.id} of webhook ${webhookId}: completed, re-delivered 7 of 7 (skipped since ${since.toISOString()})`);
    await waitFor(() => eventRequests(path).length === 7, 'seven deliveries');
    expect(eventRequests(path).map(eventIdOf).sort()).toEqual([...events].sort());

    // The first run continued as new after two batches; its successor ran the rest.
    const runs = [];
    for (let runId: string | null = (await handle.describe()).runId; runId; ) {
      const history = await stack.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      const activities = history.events!.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
      runs.unshift({ runId, activities, last: history.events![history.events!.length - 1].eventType });
      runId = history.events![0].workflowExecutionStartedEventAttributes!.continuedExecutionRunId || null;
    }
    // The run the API started carries the summary the Temporal UI lists it by.
    const first = await stack.client.workflow.getHandle(handle.workflowId, runs[0].runId).describe();
    expect(await first.staticSummary()).toBe(`Recovery of webhook ${webhookId}: re-delivers 7 skipped deliveries since ${since.toISOString()}, oldest first`);
    expect(runs.map(({ activities, last }) => ({ activities, last }))).toEqual([
      { activities: ['recoverBatch', 'recoverBatch'], last: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW },
      { activities: ['recoverBatch', 'recoverBatch', 'completeRecovery'], last: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED },
    ]);
    for (const id of events) await waitFor(async () => (await h.deliveryOf(webhookId, id)).status === 'succeeded', `delivery of ${id}`);
  });

  it('refuses bad input naming the field, other organizations, and a recovery while one runs; writes nothing', async () => {
    const org = await stack.createOrg('Strict Co', 'owner@strict.test');
    const other = await stack.createOrg('Other Co', 'owner@other.test');
    const webhookId = await h.activeWebhook(org, '/strict');
    const problem = async (res: Promise<{ status: number; contentType: string; body: any }>, status: number, field?: string) => {
      const r = await res;
      expect({ status: r.status, type: r.contentType.split(';')[0] }).toEqual({ status, type: 'application/problem+json' });
      if (field) expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    const recover = (body: unknown, key = org.apiKey, id = webhookId) => stack.api('POST', `/v1/webhooks/${id}/recover`, key, body);
    const future = new Date(Date.now() + HOUR).toISOString();
    await problem(recover({ since: future }), 400, 'body.since');
    await problem(recover({ since: 'yesterday' }), 400, 'body.since');
    await problem(recover({}), 400, 'body.since');
    await problem(recover({ since: new Date().toISOString(), statuses: ['cancelled'] }), 400, 'body.statuses.0');
    await problem(recover({ since: new Date().toISOString(), statuses: [] }), 400, 'body.statuses');
    await problem(recover({ since: new Date().toISOString(), extra: 1 }), 400, 'body.extra');
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoverable?since=${encodeURIComponent(future)}`, org.apiKey), 400, 'query.since');
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoverable?since=2026-01-01T00:00:00Z&statuses=failed,pending`, org.apiKey), 400, 'query.statuses');
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoverable`, org.apiKey), 400, 'query.since');

    // Another organization's webhook, or a recovery of another webhook, is not found.
    const since = new Date(Date.now() - HOUR).toISOString();
    await problem(recover({ since }, other.apiKey), 404);
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoverable?since=${since}`, other.apiKey), 404);
    await problem(recover({ since }, org.apiKey, 'wh_doesNotExist'), 404);
    const ok = await recover({ since });
    expect(ok.status).toBe(202);
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoveries/${ok.body.recoveryId}`, other.apiKey), 404);
    const otherWebhook = await h.activeWebhook(org, '/strict/2');
    await problem(stack.api('GET', `/v1/webhooks/${otherWebhook}/recoveries/${ok.body.recoveryId}`, org.apiKey), 404);
    await problem(stack.api('GET', `/v1/webhooks/${webhookId}/recoveries/rcv_doesNotExist`, org.apiKey), 404);
    await h.recoveryDone(org, webhookId, ok.body.recoveryId);

    // One at a time per webhook: a running recovery makes a second one wait.
    await stack.db('webhook_recoveries').where({ id: ok.body.recoveryId }).update({ status: 'running' });
    await problem(recover({ since }), 409, 'recovery');
    await stack.db('webhook_recoveries').where({ id: ok.body.recoveryId }).update({ status: 'completed' });

    // Bounded by the Delivery Log's retention when one is configured.
    const bounded = new RecoveryService({ db: stack.db, temporal: stack.client, taskQueue: stack.taskQueue, temporalUi: { baseUrl: 'http://ui', namespace: 'default' }, logRetentionDays: 30 });
    await expect(bounded.start(org.id, webhookId, { since: new Date(Date.now() - 31 * 24 * HOUR).toISOString() })).rejects.toMatchObject({ status: 400, errors: [{ field: 'body.since', message: "must be within the Delivery Log's retention of 30 days" }] });
    await expect(bounded.countRecoverable(org.id, webhookId, new Date(Date.now() - 29 * 24 * HOUR).toISOString(), undefined)).resolves.toMatchObject({ count: 0 });
    expect(await stack.db('webhook_recoveries').where({ webhook_id: webhookId })).toHaveLength(1);
  });
});

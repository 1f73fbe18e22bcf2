/**
 * `npm run record-histories [scenario…]`: runs every scenario of test/support/history-scenarios.ts on real
 * Temporal servers (the dev server; the time-skipping test server where hours or days pass), real
 * PostgreSQL and real HTTP receivers, and writes each workflow's history to test/histories/<scenario>.json
 * (test/support/history-file.ts). Re-record after a deliberate,
 * versioned change of workflow code (docs/workflow-changes.md), never to silence a replay failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { historyToFile } from '../test/support/history-file';
import { HISTORY_SCENARIOS, HistoryScenario } from '../test/support/history-scenarios';
import { Receiver } from '../test/support/receiver';
import { createStack, secretCreatedData, Stack } from '../test/support/stack';
import { waitFor } from '../test/support/wait';
import { deliveryLogRetentionWorkflow } from '../src/workflows/retention';
import { AttemptOutcomeSignal, attemptOutcomeSignal, deliveryWorkflowId, fanoutWorkflowId, webhookHealthWorkflowId } from '../src/workflows/messages';
import { runScript } from '../src/dev/run-script';

type History = proto.api.history.v1.IHistory;
const OUT = path.resolve(__dirname, '../test/histories');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// One receiver for every scenario: its path says how it answers events (pings always succeed).
const failuresLeft = new Map<string, number>([['/fail-once', 1]]);
const receiver = new Receiver((req) => {
  if (req.headers['x-cloudkeep-event'] === 'ping' || req.path.startsWith('/ok')) return { status: 200, body: 'ok' };
  if (req.path === '/fail-always') return { status: 500, body: 'down' };
  const left = failuresLeft.get(req.path) ?? 0;
  failuresLeft.set(req.path, left - 1);
  return left > 0 ? { status: 500, body: 'down' } : { status: 200, body: 'ok' };
});

function write(scenario: HistoryScenario, history: History): void {
  fs.writeFileSync(path.join(OUT, `${scenario}.json`), historyToFile(history));
  console.log(`  ${scenario}: ${history.events!.length} events`);
}

async function webhook(stack: Stack, apiKey: string, urlPath: string): Promise<string> {
  const created = await stack.api('POST', '/v1/webhooks', apiKey, { url: `${receiver.url}${urlPath}`, events: ['secret.created'] });
  if (created.status !== 201) throw new Error(`webhook not created: ${JSON.stringify(created.body)}`);
  await waitFor(async () => (await stack.db('webhooks').where({ id: created.body.id }).first()).status === 'active', 'the webhook to be active');
  return created.body.id;
}

/** Sends one event and returns the delivery id of it for `webhookId`. */
async function send(stack: Stack, serviceToken: string, webhookId: string): Promise<string> {
  const ingest = await stack.api('POST', '/v1/events', serviceToken, { event: 'secret.created', data: secretCreatedData });
  if (ingest.status !== 202) throw new Error(`event refused: ${JSON.stringify(ingest.body)}`);
  await stack.deliveryIdsFor(ingest.body.id);
  return (await stack.db('deliveries').where({ event_id: ingest.body.id, webhook_id: webhookId }).first()).id;
}

const deliveryStatus = async (stack: Stack, id: string) => (await stack.db('deliveries').where({ id }).first()).status;

async function finishedDeliveryHistory(stack: Stack, deliveryId: string): Promise<History> {
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
  await handle.result();
  return handle.fetchHistory();
}

/** Short scenarios, on the dev server in real time. */
async function onDevServer(only: Set<HistoryScenario>): Promise<void> {
  const stack = await createStack();
  try {
    const org = await stack.createOrg('Recorder', 'ops@recorder.test');

    if (only.has('delivery-success')) {
      const id = await send(stack, org.serviceToken, await webhook(stack, org.apiKey, '/ok-success'));
      write('delivery-success', await finishedDeliveryHistory(stack, id));
    }
    if (only.has('delivery-redeliver')) {
      failuresLeft.set('/fail-then-redeliver', 1);
      const id = await send(stack, org.serviceToken, await webhook(stack, org.apiKey, '/fail-then-redeliver'));
      await waitFor(async () => (await deliveryStatus(stack, id)) === 'retrying', 'the first attempt to fail');
      const redeliver = await stack.api('POST', `/v1/deliveries/${id}/redeliver`, org.apiKey);
      if (redeliver.status >= 300) throw new Error(`redeliver refused: ${JSON.stringify(redeliver.body)}`);
      write('delivery-redeliver', await finishedDeliveryHistory(stack, id));
    }
    if (only.has('delivery-cancel')) {
      const webhookId = await webhook(stack, org.apiKey, '/fail-always');
      const id = await send(stack, org.serviceToken, webhookId);
      await waitFor(async () => (await deliveryStatus(stack, id)) === 'retrying', 'the first attempt to fail');
      const deleted = await stack.api('DELETE', `/v1/webhooks/${webhookId}`, org.apiKey);
      if (deleted.status >= 300) throw new Error(`delete refused: ${JSON.stringify(deleted.body)}`);
      write('delivery-cancel', await finishedDeliveryHistory(stack, id));
    }
    if (only.has('delivery-paced')) {
      const webhookId = await webhook(stack, org.apiKey, '/ok-paced');
      const limited = await stack.api('PATCH', `/v1/webhooks/${webhookId}`, org.apiKey, { rateLimit: 0.2 });
      if (limited.status !== 200) throw new Error(`rate limit refused: ${JSON.stringify(limited.body)}`);
      await send(stack, org.serviceToken, webhookId); // takes the slot: the next one waits about 5.5 s for its own
      const id = await send(stack, org.serviceToken, webhookId);
      const history = await finishedDeliveryHistory(stack, id);
      if (!history.events!.some((e) => e.timerStartedEventAttributes)) throw new Error('the second delivery was not paced');
      write('delivery-paced', history);
    }
    if (only.has('fanout')) {
      const fanOrg = await stack.createOrg('Fan-out', 'ops@fanout.test');
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await webhook(stack, fanOrg.apiKey, `/ok-fanout-${i}`));
      const ingest = await stack.api('POST', '/v1/events', fanOrg.serviceToken, { event: 'secret.created', data: secretCreatedData });
      const handle = stack.client.workflow.getHandle(fanoutWorkflowId(fanOrg.id, ingest.body.id));
      await handle.result();
      write('fanout', await handle.fetchHistory());
    }
    if (only.has('log-retention')) {
      const handle = await stack.client.workflow.start(deliveryLogRetentionWorkflow, {
        workflowId: `record-log-retention-${Date.now()}`,
        taskQueue: stack.taskQueue,
        args: [{ retentionDays: 30 }],
      });
      await handle.result();
      write('log-retention', await handle.fetchHistory());
    }
  } finally {
    await stack.close();
  }
}

/** Scenarios where hours and days pass, on the time-skipping test server (time only moves on env.sleep). */
async function onTimeSkippingServer(only: Set<HistoryScenario>): Promise<void> {
  const stack = await createStack({ timeSkipping: true, noStickyCache: true });
  const env = stack.env!;
  try {
    const org = await stack.createOrg('Recorder', 'ops@recorder.test');

    if (only.has('delivery-retry')) {
      failuresLeft.set('/fail-then-retry', 1);
      const id = await send(stack, org.serviceToken, await webhook(stack, org.apiKey, '/fail-then-retry'));
      await waitFor(async () => (await deliveryStatus(stack, id)) === 'retrying', 'the first attempt to fail');
      await env.sleep(2 * MINUTE);
      write('delivery-retry', await finishedDeliveryHistory(stack, id));
    }
    if (only.has('delivery-failed')) {
      const id = await send(stack, org.serviceToken, await webhook(stack, org.apiKey, '/fail-always'));
      await waitFor(async () => (await deliveryStatus(stack, id)) === 'retrying', 'the first attempt to fail');
      await env.sleep(15 * HOUR); // past the whole schedule (1 m, 5 m, 30 m, 2 h, 12 h)
      write('delivery-failed', await finishedDeliveryHistory(stack, id));
    }

    const wanted: HistoryScenario[] = ['health-continue-as-new', 'health-disable', 'health-re-enable'];
    if (wanted.some((s) => only.has(s))) {
      const webhookId = await webhook(stack, org.apiKey, '/ok-health');
      const health = stack.client.workflow.getHandle(webhookHealthWorkflowId(webhookId));
      const now = () => env.currentTimeMs();
      let synthetic = 0;
      const fail = async () => {
        const outcome: AttemptOutcomeSignal = { deliveryId: `dlv_recorded_${++synthetic}`, succeeded: false, at: await now(), status: 500, error: 'HTTP 500' };
        await health.signal(attemptOutcomeSignal, outcome);
      };
      const day1 = Math.floor(((await now()) + 2 * HOUR) / DAY) * DAY + DAY;
      const advanceTo = async (t: number) => env.sleep(t - (await now()));
      // Three failure days: at the end of the third the webhook is disabled (runs continue as new daily).
      for (let day = 0; day < 3; day++) {
        await advanceTo(day1 + day * DAY + HOUR);
        await fail();
      }
      await advanceTo(day1 + 3 * DAY + HOUR);
      await waitFor(async () => (await stack.db('webhooks').where({ id: webhookId }).first()).status === 'disabled', 'the webhook to be disabled', 60_000);
      // The owner re-enables it; a failure that day, closed at midnight, ends that run too.
      const enabled = await stack.api('POST', `/v1/webhooks/${webhookId}/enable`, org.apiKey);
      if (enabled.status >= 300) throw new Error(`enable refused: ${JSON.stringify(enabled.body)}`);
      await waitFor(async () => (await stack.db('webhooks').where({ id: webhookId }).first()).status === 'active', 'the webhook to be active again', 60_000);
      await fail();
      const reEnabledRun = (await health.describe()).runId;
      await advanceTo(day1 + 4 * DAY + HOUR);
      await waitFor(async () => (await health.describe()).runId !== reEnabledRun, 'the re-enabled run to continue as new', 60_000);

      const runs = await runChain(stack, webhookHealthWorkflowId(webhookId));
      const closed = runs.filter(continuedAsNew);
      const has = (h: History, what: (e: proto.api.history.v1.IHistoryEvent) => boolean) => h.events!.some(what);
      const disabledRun = closed.find((h) => has(h, (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'disableWebhook'));
      const enabledRun = closed.find((h) => has(h, (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'webhookEnabled'));
      const plainRun = closed.find((h) => h !== disabledRun && h !== enabledRun && has(h, (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'attemptOutcome'));
      if (!disabledRun || !enabledRun || !plainRun) throw new Error('the health scenario did not produce the expected runs');
      if (only.has('health-continue-as-new')) write('health-continue-as-new', plainRun);
      if (only.has('health-disable')) write('health-disable', disabledRun);
      if (only.has('health-re-enable')) write('health-re-enable', enabledRun);
    }
  } finally {
    await stack.close();
  }
}

const continuedAsNew = (h: History) => h.events![h.events!.length - 1].eventType === proto.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW;

/** Every run of a continue-as-new chain, oldest first. */
async function runChain(stack: Stack, workflowId: string): Promise<History[]> {
  const runs: History[] = [];
  for (let runId: string | null = (await stack.client.workflow.getHandle(workflowId).describe()).runId; runId; ) {
    const history = await stack.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift(history);
    runId = history.events![0].workflowExecutionStartedEventAttributes!.continuedExecutionRunId || null;
  }
  return runs;
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2) as HistoryScenario[];
  for (const s of requested) if (!(s in HISTORY_SCENARIOS)) throw new Error(`Unknown scenario ${s}; known: ${Object.keys(HISTORY_SCENARIOS).join(', ')}`);
  const only = new Set<HistoryScenario>(requested.length ? requested : (Object.keys(HISTORY_SCENARIOS) as HistoryScenario[]));
  fs.mkdirSync(OUT, { recursive: true });
  await receiver.start();
  await globalSetup();
  try {
    console.log(`Recording ${only.size} histories into ${path.relative(process.cwd(), OUT)}/`);
    await onDevServer(only);
    await onTimeSkippingServer(only);
  } finally {
    await receiver.stop();
    await globalTeardown();
  }
}

runScript(main);

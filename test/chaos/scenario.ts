/**
 * One chaos scenario from start to verdict: a fresh organization with three webhooks on their own receivers,
 * N events ingested by a few concurrent clients while the scenario injects its faults, a wait (bounded)
 * until the Delivery Log settles, then the observation (receivers, Delivery Log through the API, Temporal
 * runs) and its verdict.
 */
import { ChaosReceiver } from './receiver';
import { ApiIngestCounts, countsPerApi, IngestRecord, LoadRun, latencySummary, startLoad } from './load';
import type { ChaosStack, OrgCredentials } from './stack';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { computeVerdict, deliveryWorkflowIdOf, FaultWindow, LostWorkflowTask, Observation, ObservedDelivery, ObservedRequest, ObservedRun, Verdict } from './verdict';
import { waitUntil } from './wait';

const WEBHOOKS = 3;
const QUIET_MS = 5000;

export interface LoadShape {
  events: number;
  clients: number;
  ratePerSecond: number;
}

export interface FaultContext {
  stack: ChaosStack;
  load: LoadRun;
  receivers: ChaosReceiver[];
  eventsPlanned: number;
  log: (line: string) => void;
  /** Resolves once `n` events have been accepted (bounded wait). */
  untilAccepted: (n: number) => Promise<void>;
  /** Resolves once at least `n` requests are held open at the receivers. */
  untilInFlight: (n: number) => Promise<void>;
  /** A line for the scenario's report (what the fault actually hit). */
  note: (line: string) => void;
}

export interface ScenarioSpec {
  name: string;
  title: string;
  load: LoadShape;
  /** The smaller load of `--short`. */
  shortLoad?: Partial<LoadShape>;
  /** Receivers hold each request this long before answering (requests in flight at the crash). */
  holdMs?: number;
  /** How long to wait for the Delivery Log to settle once the load is done. */
  settleDeadlineMs: number;
  inject: (ctx: FaultContext) => Promise<FaultWindow[]>;
}

export interface IngestSummary {
  planned: number;
  accepted: number;
  notAccepted: number;
  rejected: number;
  tries: number;
  duplicateAnswers: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** What each API did with the tries sent to it (one API in the dev shape). */
  perApi: ApiIngestCounts[];
}

export const emptyIngest = (planned = 0): IngestSummary => ({ planned, accepted: 0, notAccepted: 0, rejected: 0, tries: 0, duplicateAnswers: 0, latencyMs: { p50: 0, p99: 0, max: 0 }, perApi: [] });

export interface ScenarioResult {
  name: string;
  title: string;
  verdict: Verdict | null;
  error: string | null;
  ingest: IngestSummary;
  faults: FaultWindow[];
  notes: string[];
  settled: boolean;
  settleSeconds: number;
  durationSeconds: number;
  /** Seconds from the start of the load: when it ended, and when the receivers got their last request. */
  timeline: { loadEnded: number; lastRequest: number } | null;
  /** What the verdict was computed from (written to results.json for a closer look). */
  observation?: Observation;
}

export async function runScenario(stack: ChaosStack, spec: ScenarioSpec, o: { short: boolean; runTag: string; log: (line: string) => void }): Promise<ScenarioResult> {
  const log = o.log;
  const began = Date.now();
  const shape = { ...spec.load, ...(o.short ? spec.shortLoad : {}) };
  const receivers: ChaosReceiver[] = [];
  const result: ScenarioResult = {
    name: spec.name,
    title: spec.title,
    verdict: null,
    error: null,
    ingest: emptyIngest(shape.events),
    faults: [],
    notes: [],
    settled: false,
    settleSeconds: 0,
    durationSeconds: 0,
    timeline: null,
  };
  let load: LoadRun | null = null;
  let org: OrgCredentials | null = null;
  const webhookIds: string[] = [];
  try {
    await stack.ensureHealthy(log);
    org = await stack.createOrg(`chaos-${spec.name}-${o.runTag}`);
    for (let i = 0; i < WEBHOOKS; i++) receivers.push(await new ChaosReceiver(`${spec.name}-${i}`).start());
    for (const receiver of receivers) webhookIds.push(await createWebhook(stack.apiUrl, org.apiKey, receiver.url));
    await waitUntil(async () => (await Promise.all(webhookIds.map((id) => webhookStatus(stack.apiUrl, org!.apiKey, id)))).every((s) => s === 'active'), 'the webhooks\' pings', 90_000, {
      intervalMs: 500,
    });
    for (const r of receivers) r.behaviour = { status: 200, holdMs: spec.holdMs ?? 0 };

    log(`  load: ${shape.events} events, ${shape.clients} clients, ${shape.ratePerSecond}/s, ${WEBHOOKS} webhooks`);
    const startedLoad = startLoad({
      apis: stack.apis,
      serviceToken: org.serviceToken,
      idPrefix: `evt_${spec.name}_${o.runTag}`,
      events: shape.events,
      clients: shape.clients,
      ratePerSecond: shape.ratePerSecond,
      requestTimeoutMs: 40_000,
      giveUpAfterMs: 240_000,
    });
    load = startedLoad;
    const loadBegan = Date.now();
    const ctx: FaultContext = {
      stack,
      load: startedLoad,
      receivers,
      eventsPlanned: shape.events,
      log,
      untilAccepted: async (n) => {
        await waitUntil(() => startedLoad.accepted() >= n, `${n} accepted events`, 180_000, { intervalMs: 50 });
      },
      untilInFlight: async (n) => {
        await waitUntil(() => receivers.reduce((sum, r) => sum + r.inFlight, 0) >= n, `${n} requests in flight`, 120_000, { intervalMs: 20 });
      },
      note: (line) => {
        result.notes.push(line);
        log(`    ${line}`);
      },
    };
    result.faults = await spec.inject(ctx);
    const records = await startedLoad.done;
    summariseIngest(result, records, stack);
    log(`  ingest: ${result.ingest.accepted}/${shape.events} accepted in ${result.ingest.tries} tries (latency p50 ${result.ingest.latencyMs.p50} ms, max ${result.ingest.latencyMs.max} ms)`);

    const accepted = records.filter((r) => r.accepted).map((r) => r.eventId);
    const settleBegan = Date.now();
    const unsettled = await settle(stack, org.id, webhookIds, accepted, receivers, spec.settleDeadlineMs);
    result.settled = unsettled === null;
    result.settleSeconds = Math.round((Date.now() - settleBegan) / 1000);
    log(`  ${result.settled ? 'settled' : `did NOT settle (${unsettled})`} after ${result.settleSeconds} s`);

    const lastRequest = Math.max(...receivers.map((r) => r.lastRequestAt));
    result.timeline = { loadEnded: Math.round((settleBegan - loadBegan) / 1000), lastRequest: Math.round((lastRequest - loadBegan) / 1000) };

    const deliveries = await readDeliveryLog(stack.apiUrl, org.apiKey, webhookIds);
    const runs = await listRuns(stack, webhookIds);
    const requests: ObservedRequest[] = receivers
      .flatMap((r) => r.requests)
      .filter((r) => r.deliveryId && r.event !== 'ping')
      .map((r) => ({ deliveryId: r.deliveryId!, receivedAt: r.receivedAt, answeredAt: r.answeredAt, abandonedAt: r.abandonedAt, status: r.status }));
    result.observation = {
      scenario: spec.name,
      acceptedEventIds: accepted,
      webhookIds,
      deliveries,
      requests,
      runs,
      lostWorkflowTasks: await lostWorkflowTasks(stack, runs, requests),
      faults: result.faults,
      unsettled,
      ingestTries: records.flatMap((r) => r.tries.map((t) => ({ at: t.at, ms: t.ms }))),
    };
    result.verdict = computeVerdict(result.observation);
  } catch (err) {
    result.error = (err as Error).message;
    load?.abort();
    if (load) summariseIngest(result, await load.done, stack);
  } finally {
    result.notes.push(...stack.notes.filter((n) => n.at >= began).map((n) => n.note));
    if (org) await Promise.all(webhookIds.map((id) => deleteWebhook(stack.apiUrl, org!.apiKey, id).catch(() => undefined)));
    await Promise.all(receivers.map((r) => r.stop()));
    result.durationSeconds = Math.round((Date.now() - began) / 1000);
  }
  return result;
}

function summariseIngest(result: ScenarioResult, records: IngestRecord[], stack: ChaosStack): void {
  result.ingest = {
    planned: records.length,
    accepted: records.filter((r) => r.accepted).length,
    notAccepted: records.filter((r) => !r.accepted).length,
    rejected: records.filter((r) => r.rejected).length,
    tries: records.reduce((sum, r) => sum + r.tries.length, 0),
    duplicateAnswers: records.filter((r) => r.duplicateAnswer).length,
    latencyMs: latencySummary(records),
    perApi: countsPerApi(records, stack.apis),
  };
  const rejected = records.find((r) => r.rejected);
  if (rejected) result.notes.push(`ingest refused ${rejected.eventId}: ${rejected.rejected!.status} ${rejected.rejected!.body}`);
}

/**
 * Settled: no delivery of the organization still pending or retrying, every event dispatched (so the outbox has
 * had its say: a crash that left one undispatched shows its consequences before we look), no delivery workflow
 * of these webhooks still running, every accepted delivery answered 2xx, and the receivers quiet for a moment.
 * Returns null once settled, else what was still unsettled when the deadline passed (the verdict is then taken
 * on what there is, and the scenario fails its "settles" rule).
 */
async function settle(stack: ChaosStack, organizationId: string, webhookIds: string[], accepted: string[], receivers: ChaosReceiver[], deadlineMs: number): Promise<string | null> {
  const client = await stack.temporal();
  const running = `WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running' AND (${webhookIds.map((id) => `WebhookId = '${id}'`).join(' OR ')})`;
  const unanswered = () => {
    const done = new Set(receivers.flatMap((r) => r.requests.filter((q) => q.status !== null && q.status < 300).map((q) => `${q.eventId} ${r.name}`)));
    return accepted.reduce((n, eventId) => n + receivers.filter((r) => !done.has(`${eventId} ${r.name}`)).length, 0);
  };
  let pending = 'nothing checked yet';
  try {
    await waitUntil(
      async () => {
        const [{ open }] = await stack.db('deliveries').whereIn('webhook_id', webhookIds).whereNot('event_type', 'ping').whereIn('status', ['pending', 'retrying']).count({ open: '*' });
        if (Number(open) > 0) return void (pending = `${open} deliveries still pending or retrying in the log`);
        const [{ undispatched }] = await stack.db('events').where({ organization_id: organizationId }).whereNull('dispatched_at').count({ undispatched: '*' });
        if (Number(undispatched) > 0) return void (pending = `${undispatched} events not yet dispatched (waiting for the outbox)`);
        const missing = unanswered();
        if (missing > 0) return void (pending = `${missing} accepted deliveries not yet answered 2xx by their receiver`);
        const { count } = await client.workflow.count(running);
        if (count > 0) return void (pending = `${count} delivery workflows still running`);
        pending = 'receivers not yet quiet';
        return Date.now() - Math.max(...receivers.map((r) => r.lastRequestAt)) >= QUIET_MS;
      },
      'the Delivery Log to settle',
      deadlineMs,
      { intervalMs: 1000 },
    );
    return null;
  } catch (err) {
    return `${pending}${/Timed out/.test((err as Error).message) ? '' : ` (${(err as Error).message})`}`;
  }
}

/** A JSON call to the API; reads are tried up to 3 times (a loaded machine can stall one for a while). */
async function api(apiUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apiOnce(apiUrl, token, method, path, body);
    } catch (err) {
      if (method !== 'GET' || attempt >= 3) throw new Error(`${method} ${path}: ${(err as Error).message}`);
    }
  }
}

async function apiOnce(apiUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(apiUrl + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function createWebhook(apiUrl: string, apiKey: string, url: string): Promise<string> {
  const res = await api(apiUrl, apiKey, 'POST', '/v1/webhooks', { url, events: ['secret.created'], description: 'chaos receiver' });
  if (res.status !== 201) throw new Error(`creating a webhook answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json.id as string;
}

async function webhookStatus(apiUrl: string, apiKey: string, id: string): Promise<string> {
  return (await api(apiUrl, apiKey, 'GET', `/v1/webhooks/${id}`)).json.status as string;
}

async function deleteWebhook(apiUrl: string, apiKey: string, id: string): Promise<void> {
  await api(apiUrl, apiKey, 'DELETE', `/v1/webhooks/${id}`);
}

/** The Delivery Log as a user reads it: each webhook's list (paged), then each delivery with its attempts. */
async function readDeliveryLog(apiUrl: string, apiKey: string, webhookIds: string[]): Promise<ObservedDelivery[]> {
  const ids: string[] = [];
  for (const webhookId of webhookIds) {
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const query = `event=secret.created&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api(apiUrl, apiKey, 'GET', `/v1/webhooks/${webhookId}/deliveries?${query}`);
      if (res.status !== 200) throw new Error(`the Delivery Log of ${webhookId} answered ${res.status}`);
      ids.push(...(res.json.data as { id: string }[]).map((d) => d.id));
      cursor = res.json.nextCursor;
      if (!cursor) break;
    }
  }
  const deliveries: ObservedDelivery[] = [];
  for (let i = 0; i < ids.length; i += 8) {
    const batch = await Promise.all(
      ids.slice(i, i + 8).map(async (id) => {
        const res = await api(apiUrl, apiKey, 'GET', `/v1/deliveries/${id}`);
        if (res.status !== 200) throw new Error(`GET /v1/deliveries/${id} answered ${res.status}`);
        const d = res.json;
        return { id: d.id, eventId: d.eventId, webhookId: d.webhookId, status: d.status, attemptsLogged: (d.attempts as unknown[]).length };
      }),
    );
    deliveries.push(...batch);
  }
  return deliveries;
}

const { EventType } = temporal.api.enums.v1;

/**
 * The workflow tasks that were lost (timed out or failed) in the runs of the deliveries the receivers saw more
 * than once, from each run's history: what explains a re-send whose earlier send did not overlap the outage.
 */
async function lostWorkflowTasks(stack: ChaosStack, runs: ObservedRun[], requests: ObservedRequest[]): Promise<LostWorkflowTask[]> {
  const seen = new Map<string, number>();
  for (const r of requests) seen.set(r.deliveryId, (seen.get(r.deliveryId) ?? 0) + 1);
  const workflowIds = new Set([...seen].filter(([, n]) => n > 1).map(([id]) => deliveryWorkflowIdOf(id)));
  const client = await stack.temporal();
  const lost: LostWorkflowTask[] = [];
  for (const run of runs.filter((r) => workflowIds.has(r.workflowId))) {
    const { events } = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const startedAt = new Map((events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED).map((e) => [Number(e.eventId), tsToMs(e.eventTime)]));
    for (const e of events ?? []) {
      const startedEventId = e.workflowTaskTimedOutEventAttributes?.startedEventId ?? e.workflowTaskFailedEventAttributes?.startedEventId;
      const started = startedEventId != null ? startedAt.get(Number(startedEventId)) : undefined;
      if (started !== undefined) lost.push({ workflowId: run.workflowId, startedAt: started, lostAt: tsToMs(e.eventTime) });
    }
  }
  return lost;
}

/** Every run of every delivery workflow of these webhooks (Temporal visibility). */
async function listRuns(stack: ChaosStack, webhookIds: string[]): Promise<ObservedRun[]> {
  const client = await stack.temporal();
  const query = `WorkflowType = 'deliveryWorkflow' AND (${webhookIds.map((id) => `WebhookId = '${id}'`).join(' OR ')})`;
  const runs: ObservedRun[] = [];
  for await (const info of client.workflow.list({ query })) {
    runs.push({ workflowId: info.workflowId, runId: info.runId, startTime: info.startTime.getTime(), closeTime: info.closeTime?.getTime() ?? null });
  }
  return runs;
}

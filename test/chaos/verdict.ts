/**
 * The verdict of one chaos scenario, from what was observed: pure, so its rules have unit tests.
 *
 * Pass rules (docs/reliability.md):
 *  1. lost = 0: every delivery of every accepted event reached its receiver and was answered 2xx;
 *  2. a delivery whose workflow had completed is never sent again (one run per `delivery:<id>`, no request
 *     after that run closed);
 *  3. a delivery is sent twice only when the earlier send was cut by a crash: it was in flight (or answered
 *     within `graceMs`) while a part that carries attempts (worker, PostgreSQL, Temporal) was down, or its workflow
 *     task was lost in the outage (in progress while such a part was down, then timed out or failed: the attempt
 *     ran again on the next task, although the old one had not stopped yet);
 *  4. the Delivery Log agrees with the receiver: `succeeded` ⇔ answered 2xx, and attempts logged ≥ requests received;
 *  5. the system settles within the scenario's deadline (nothing left pending, undispatched or running), so the
 *     other rules judged a finished state.
 *
 * Targets (reported met or missed, like the bench's; they do not fail the scenario): in a scenario that takes
 * Temporal down, ingest tries sent while it was down answered within INGEST_P99_TARGET_MS at the 99th percentile
 * (ingest writes the outbox row and never calls Temporal).
 */

/** Issue 19: ingest p99 while the Temporal server is down. */
export const INGEST_P99_TARGET_MS = 100;

export type Part = 'worker' | 'api' | 'postgres' | 'temporal' | 'receiver';

/** Parts whose crash can cut an attempt between the request and its record. The API never sends. */
export const ATTEMPT_CARRYING_PARTS: readonly Part[] = ['worker', 'postgres', 'temporal'];

export interface FaultWindow {
  part: Part;
  what: string;
  /** When the part went down (kill -9) or started failing. */
  from: number;
  /** When it was back and ready; null if it never came back. */
  to: number | null;
}

export interface ObservedRequest {
  deliveryId: string;
  receivedAt: number;
  answeredAt: number | null;
  /** The sender's connection closed before the answer. */
  abandonedAt: number | null;
  status: number | null;
}

export interface ObservedDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  /** From the Delivery Log (`GET /v1/deliveries/:id`). */
  status: string;
  attemptsLogged: number;
}

export interface ObservedRun {
  workflowId: string;
  runId: string;
  startTime: number;
  closeTime: number | null;
}

export interface Observation {
  scenario: string;
  acceptedEventIds: string[];
  webhookIds: string[];
  deliveries: ObservedDelivery[];
  requests: ObservedRequest[];
  runs: ObservedRun[];
  faults: FaultWindow[];
  /** Delivery ids that were redelivered on purpose (a second run is then expected). */
  redelivered?: string[];
  graceMs?: number;
  /** What was still unsettled at the settle deadline; null when everything settled. */
  unsettled?: string | null;
  /** Every ingest try: when it was sent (epoch ms) and how long it took, answered or not. */
  ingestTries?: { at: number; ms: number }[];
  /**
   * Workflow tasks of delivery runs that were lost (timed out or failed) instead of completed, from the runs'
   * Temporal histories: when each was started and when it was declared lost.
   */
  lostWorkflowTasks?: LostWorkflowTask[];
}

export interface LostWorkflowTask {
  workflowId: string;
  startedAt: number;
  lostAt: number;
}

export type DuplicateCause = 'cut-by-crash' | 'after-completion' | 'unexplained';

export interface DuplicateSend {
  deliveryId: string;
  at: number;
  cause: DuplicateCause;
  /** Cut by the crash because the run's workflow task was lost in the outage (not because the send overlapped it). */
  viaLostTask?: true;
}

export interface LogMismatch {
  deliveryId: string;
  problem: string;
}

export interface Rule {
  rule: string;
  ok: boolean;
  detail: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface Verdict {
  scenario: string;
  eventsAccepted: number;
  deliveriesExpected: number;
  /** Expected deliveries the receiver saw at least once. */
  deliveriesReceived: number;
  /** Expected deliveries never answered 2xx by their receiver. */
  lost: string[];
  /** Delivery ids sent again after a 2xx or a send with no answer. */
  duplicated: string[];
  duplicateSends: DuplicateSend[];
  /** Re-sends after a non-2xx answer: the schedule working, not duplicates. */
  retries: number;
  logMismatches: LogMismatch[];
  /** Delivery workflows with more than one run that nobody redelivered. */
  multiRun: { workflowId: string; runs: number }[];
  /** Ingest tries sent while a Temporal fault window was open; null when the scenario has none. */
  ingestWhileTemporalDown: { tries: number; p50: number; p99: number; max: number } | null;
  rules: Rule[];
  /** Performance targets: reported, not part of `pass`. */
  targets: TargetCheck[];
  pass: boolean;
}

/** Percentiles of durations (ms); 0 for none. */
export function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const all = [...values].sort((a, b) => a - b);
  const at = (q: number) => (all.length ? all[Math.min(all.length - 1, Math.floor(q * all.length))] : 0);
  return { p50: at(0.5), p99: at(0.99), max: all.length ? all[all.length - 1] : 0 };
}

const is2xx = (status: number | null) => status !== null && status >= 200 && status < 300;
const overlaps = (a0: number, a1: number, b0: number, b1: number) => a0 <= b1 && b0 <= a1;
export const deliveryWorkflowIdOf = (deliveryId: string) => `delivery:${deliveryId}`;

export function computeVerdict(o: Observation): Verdict {
  const graceMs = o.graceMs ?? 2000;
  const accepted = new Set(o.acceptedEventIds);
  const byPair = new Map(o.deliveries.map((d) => [`${d.eventId} ${d.webhookId}`, d]));
  const redelivered = new Set(o.redelivered ?? []);

  const requestsOf = new Map<string, ObservedRequest[]>();
  for (const r of o.requests) {
    const list = requestsOf.get(r.deliveryId) ?? [];
    list.push(r);
    requestsOf.set(r.deliveryId, list);
  }
  for (const list of requestsOf.values()) list.sort((a, b) => a.receivedAt - b.receivedAt);

  const runsOf = new Map<string, ObservedRun[]>();
  for (const run of o.runs) {
    const list = runsOf.get(run.workflowId) ?? [];
    list.push(run);
    runsOf.set(run.workflowId, list);
  }
  for (const list of runsOf.values()) list.sort((a, b) => a.startTime - b.startTime);

  // Every accepted event × every webhook is one expected delivery; a missing row is lost like a missing request.
  const lost: string[] = [];
  let received = 0;
  let expected = 0;
  const expectedDeliveries: ObservedDelivery[] = [];
  for (const eventId of accepted) {
    for (const webhookId of o.webhookIds) {
      expected++;
      const delivery = byPair.get(`${eventId} ${webhookId}`);
      if (!delivery) {
        lost.push(`${eventId} → ${webhookId} (no delivery in the log)`);
        continue;
      }
      expectedDeliveries.push(delivery);
      const requests = requestsOf.get(delivery.id) ?? [];
      if (requests.length) received++;
      if (!requests.some((r) => is2xx(r.status))) lost.push(delivery.id);
    }
  }

  const duplicateSends: DuplicateSend[] = [];
  let retries = 0;
  const cutting = o.faults.filter((f) => ATTEMPT_CARRYING_PARTS.includes(f.part));
  const duringOutage = (from: number, to: number) => cutting.some((f) => overlaps(from, to, f.from, f.to ?? Number.MAX_SAFE_INTEGER));
  const lostTasksOf = new Map<string, LostWorkflowTask[]>();
  for (const task of o.lostWorkflowTasks ?? []) lostTasksOf.set(task.workflowId, [...(lostTasksOf.get(task.workflowId) ?? []), task]);
  for (const [deliveryId, requests] of requestsOf) {
    const firstRun = runsOf.get(deliveryWorkflowIdOf(deliveryId))?.[0];
    for (let i = 1; i < requests.length; i++) {
      const previous = requests[i - 1];
      const request = requests[i];
      if (previous.answeredAt !== null && !is2xx(previous.status)) {
        retries++;
        continue;
      }
      let cause: DuplicateCause;
      if (!redelivered.has(deliveryId) && firstRun?.closeTime != null && request.receivedAt > firstRun.closeTime) cause = 'after-completion';
      else {
        // The earlier send: from its arrival to its end (answered or abandoned), plus the moment the sender
        // needs to record it; a kill in that span can leave the attempt unrecorded.
        const sendFrom = previous.receivedAt;
        const sendTo = (previous.answeredAt ?? previous.abandonedAt ?? request.receivedAt) + graceMs;
        const cut = duringOutage(sendFrom, sendTo);
        // Or the earlier send came from a workflow task that was in progress during the outage and then lost.
        const lostTask = !cut && (lostTasksOf.get(deliveryWorkflowIdOf(deliveryId)) ?? []).some((t) => t.startedAt <= sendFrom && duringOutage(t.startedAt, t.lostAt));
        cause = cut || lostTask ? 'cut-by-crash' : 'unexplained';
        if (lostTask) {
          duplicateSends.push({ deliveryId, at: request.receivedAt, cause, viaLostTask: true });
          continue;
        }
      }
      duplicateSends.push({ deliveryId, at: request.receivedAt, cause });
    }
  }
  duplicateSends.sort((a, b) => a.at - b.at);
  const duplicated = [...new Set(duplicateSends.map((d) => d.deliveryId))];

  const logMismatches: LogMismatch[] = [];
  for (const d of expectedDeliveries) {
    const requests = requestsOf.get(d.id) ?? [];
    const answered2xx = requests.some((r) => is2xx(r.status));
    if ((d.status === 'succeeded') !== answered2xx) {
      logMismatches.push({ deliveryId: d.id, problem: `log says ${d.status}, receiver ${answered2xx ? 'answered 2xx' : 'never answered 2xx'}` });
    }
    if (d.attemptsLogged < requests.length) {
      logMismatches.push({ deliveryId: d.id, problem: `${d.attemptsLogged} attempt(s) logged, ${requests.length} request(s) received` });
    }
  }

  const multiRun = [...runsOf]
    .filter(([workflowId, runs]) => runs.length > 1 && !redelivered.has(workflowId.replace(/^delivery:/, '')))
    .map(([workflowId, runs]) => ({ workflowId, runs: runs.length }));

  // Tries sent from the kill until Temporal was serving again (a window never closed runs to the end).
  const temporalDown = o.faults.filter((f) => f.part === 'temporal');
  const whileDown = (o.ingestTries ?? []).filter((t) => temporalDown.some((f) => t.at >= f.from && t.at <= (f.to ?? Number.MAX_SAFE_INTEGER)));
  const ingestWhileTemporalDown = temporalDown.length ? { tries: whileDown.length, ...percentiles(whileDown.map((t) => t.ms)) } : null;

  const after = duplicateSends.filter((d) => d.cause === 'after-completion');
  const viaLostTask = duplicateSends.filter((d) => d.viaLostTask).length;
  const unexplained = duplicateSends.filter((d) => d.cause === 'unexplained');
  const sample = (ids: string[]) => (ids.length ? `: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}` : '');
  const rules: Rule[] = [
    { rule: 'nothing lost', ok: lost.length === 0, detail: `${lost.length} of ${expected} lost${sample(lost)}` },
    {
      rule: 'a completed delivery is never sent again',
      ok: multiRun.length === 0 && after.length === 0,
      detail: `${multiRun.length} workflow(s) with >1 run${sample(multiRun.map((m) => m.workflowId))}; ${after.length} send(s) after completion`,
    },
    {
      rule: 'duplicates only for attempts cut by the crash',
      ok: unexplained.length === 0,
      detail: `${duplicateSends.length - after.length - unexplained.length} cut by the crash${viaLostTask ? ` (${viaLostTask} of them after a workflow task lost in the outage)` : ''}, ${unexplained.length} unexplained${sample(unexplained.map((d) => d.deliveryId))}`,
    },
    {
      rule: 'the Delivery Log agrees with the receiver',
      ok: logMismatches.length === 0,
      detail: `${logMismatches.length} disagreement(s)${sample(logMismatches.map((m) => `${m.deliveryId} (${m.problem})`))}`,
    },
    { rule: 'settles within the deadline', ok: !o.unsettled, detail: o.unsettled ? `still: ${o.unsettled}` : 'yes' },
  ];
  const targets: TargetCheck[] = [];
  if (ingestWhileTemporalDown) {
    const { tries, p99, max } = ingestWhileTemporalDown;
    targets.push({
      target: `ingest while Temporal is down: p99 ≤ ${INGEST_P99_TARGET_MS} ms`,
      met: p99 <= INGEST_P99_TARGET_MS,
      measured: tries ? `p99 ${p99} ms, max ${max} ms over ${tries} tries${tries < 100 ? ' (fewer than 100: p99 is their maximum)' : ''}` : 'no try was sent while it was down',
    });
  }

  return {
    scenario: o.scenario,
    eventsAccepted: accepted.size,
    deliveriesExpected: expected,
    deliveriesReceived: received,
    lost,
    duplicated,
    duplicateSends,
    retries,
    logMismatches,
    multiRun,
    ingestWhileTemporalDown,
    rules,
    targets,
    pass: rules.every((r) => r.ok),
  };
}

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { deliveriesStore, DeliveryStatus } from '../db/stores/deliveries';
import { deliveryAttemptsStore, AttemptContext, AttemptTrigger, RecordedOutcome } from '../db/stores/delivery-attempts';
import { buildRequest, redactUrl } from '../destinations';
import { toEventPayload } from '../domain/event-payload';
import { sendWebhookRequest, sharedAgents } from '../delivery/http-sender';
import { AttemptOutcomeSignal, attemptOutcomeSignal, UNDELIVERABLE_FAILURE_TYPE, webhookHealthWorkflowId, WorkflowSignatures, workflowTypes } from '../workflows/messages';
import { waitBeforeRetry } from '../workflows/schedule';
import { deliveriesPaced, deliveryAttempts, deliveryAttemptSeconds, stalledDeliveries } from '../metrics';
import { sqlStateOf, StallReason, stallReasonOf } from '../domain/stalls';
import { TimeLimitError, within } from '../time-limit';
import type { ActivityDeps } from './deps';

export interface AttemptInput {
  deliveryId: string;
  trigger: AttemptTrigger;
  /** Workflow time of the attempt (epoch ms): the log and the failure-day rule use it. */
  attemptedAt: number;
  /** The workflow step (`runId:trigger:n`): a retried activity finds its own earlier try by it. */
  idempotencyKey: string;
  /** The wait before the next scheduled attempt if this one fails; null when it is the last. */
  retryDelayMs: number | null;
  /** For a manual attempt during back-off: when the next scheduled one is due. */
  nextAttemptAt: number | null;
  /**
   * Set when this step's send slot under the webhook's rate limit was reserved by an earlier call that returned
   * `paced`: send without reserving again. Absent on every first call (and in every history recorded before pacing).
   */
  slotReserved?: boolean;
  /**
   * The first attempt of a run a redeliver started (see DeliveryWorkflowInput.startedOnRequest): logged as manual,
   * since someone asked, while it keeps the scheduled step's behaviour (a failure continues the schedule).
   */
  requested?: boolean;
}

/** In-process observers of an attempt (never part of its input, which the workflow records). */
export interface AttemptHooks {
  /** The request is about to go out: the outbox's admission stops counting a slow one (see slot-accounting.ts). */
  requestSent?(input: AttemptInput): void;
}

export interface AttemptOutcome {
  /**
   * `handoff`: nothing was sent; run this attempt again as a regular activity (a slow endpoint).
   * `paced`: nothing was sent; the webhook's rate limit gave this step a slot `waitMs` from now, call again then.
   */
  result: 'succeeded' | 'failed' | 'cancelled' | 'handoff' | 'paced';
  deliveryStatus: Exclude<DeliveryStatus, 'skipped'>;
  status: number | null;
  error: string | null;
  /** How long to wait before the next scheduled attempt; null when none follows. */
  nextDelayMs: number | null;
  /** With `paced`: the reserved slot (epoch ms, the database's clock). */
  notBefore?: number;
  /** With `paced`: how long from the reservation to the slot; the workflow's durable timer waits this long. */
  waitMs?: number;
}

/** The longest an attempt waits at the send gate in the worker; a longer queue is waited for on a durable timer. */
export const MAX_SEND_GATE_WAIT_MS = 1000;
/** A worker clock this far behind the database's cannot hold a send longer than the gate asked. */
const MAX_CLOCK_SKEW_MS = 50;

/**
 * An endpoint whose last attempt took this long (ms) or more is slow: its attempts run as regular activities. A
 * local activity runs inside its workflow task and holds one of the worker's workflow-task slots for the whole
 * request, so a few hundred 2-second answers would stall every tenant's deliveries (and eager starts, which need
 * a free slot). A regular activity costs Temporal one more task per attempt, so fast endpoints keep the local one.
 */
export const SLOW_ENDPOINT_MS = 3_000;

export function isSlowEndpoint(webhook: { last_duration_ms: number | null }): boolean {
  return webhook.last_duration_ms !== null && webhook.last_duration_ms >= SLOW_ENDPOINT_MS;
}

/** What the log says of a try whose outcome a crash (worker, database) kept from being recorded. */
export const INTERRUPTED_ATTEMPT_ERROR = 'Interrupted: the worker stopped (or lost the database) before the outcome was recorded; sent again';

/** What the log says of a try cut short by a crash when the retry finds the webhook deleted or disabled. */
export const interruptedNotResentError = (reason: string) =>
  `Interrupted: the worker stopped (or lost the database) before the outcome was recorded; not sent again (${reason})`;

/**
 * A failure no retry of the attempt can get past: the delivery's stored data (event, secret, URL) cannot make a
 * request. Retrying would only repeat it, once a minute, for ever.
 */
export class UndeliverableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UndeliverableError';
  }
}

const FINAL_ERROR_NAMES = new Set(['UndeliverableError', 'RangeError', 'TypeError', 'SyntaxError', 'ReferenceError']);

/**
 * Whether an attempt's error is final. Ours (UndeliverableError), the built-in errors of a programming fault
 * (RangeError, TypeError, SyntaxError, ReferenceError) and PostgreSQL's data exceptions (SQLSTATE class 22: a
 * stored or computed value it cannot take) are: the same input fails the same way every time. Everything else
 * (PostgreSQL's other errors, lost connections, Temporal's client errors) is an infrastructure fault that the
 * attempt's retry policy waits out, the delivery marked stalled meanwhile (src/domain/stalls.ts).
 */
export function isUndeliverable(err: unknown): err is Error {
  // By name, not instanceof: Node's own errors (a header Node refuses to send) come from another realm under Jest.
  if (typeof err !== 'object' || err === null) return false;
  return FINAL_ERROR_NAMES.has((err as Error).name) || sqlStateOf(err)?.startsWith('22') === true;
}

/** What a try is waiting on right now: when its time-out cuts it, that part is why the delivery is stalled. */
interface Phase {
  on: 'database' | 'receiver' | 'temporal';
}

/** Per phase: the stall reason when a try's time-out cuts it there, and the part it got no answer from. */
const CUT_IN: Record<Phase['on'], { reason: StallReason; part: string }> = {
  database: { reason: 'database_unavailable', part: 'PostgreSQL' },
  temporal: { reason: 'temporal_unavailable', part: 'Temporal' },
  receiver: { reason: 'unknown', part: 'the receiver' },
};

/**
 * The longest one try of an attempt may take before it is given up and tried again: the 10 s request, the send gate's
 * second and the database and Temporal round trips fit in it with room. Below the workflow's 20 s start-to-close
 * time-out (src/workflows/delivery.ts), so the try ends by our hand, its reason known.
 */
export const ATTEMPT_BOUND_MS = 18_000;

/** The longest the stall mark's write may take: it is best effort (the database may be the part that is down). */
const STALL_WRITE_TIMEOUT_MS = 2_000;

/**
 * A success changes the failure-day count only if a failure happened in the last three UTC days: further back,
 * every day since was a success day or a day without attempts, and either already ended the streak. Skipping
 * the signal then keeps healthy traffic from costing the health workflow a task per delivery.
 */
export function successMattersToHealth(lastFailureAt: Date | null, attemptedAt: number): boolean {
  return lastFailureAt !== null && attemptedAt - lastFailureAt.getTime() < 3 * 86_400_000;
}

/** Repeated failures of one webhook are signalled at most this often (the last error shown is at most this stale). */
export const FAILURE_SIGNAL_INTERVAL_MS = 60_000;

const utcDay = (ms: number) => Math.floor(ms / 86_400_000);

/**
 * A failure changes the failure-day rule only as the first failure of its UTC day: the day is then a failure day
 * unless a success comes, and successes are signalled on their own. Later failures that day only refresh the last
 * error, so during an outage they are signalled at most once a minute per webhook instead of once per attempt —
 * thousands of deliveries failing at once would otherwise queue thousands of signals on one health workflow.
 */
export function failureMattersToHealth(previous: { last_failure_at: Date | null; last_success_at: Date | null }, attemptedAt: number): boolean {
  const lastFailure = previous.last_failure_at?.getTime();
  if (lastFailure === undefined || utcDay(lastFailure) !== utcDay(attemptedAt)) return true;
  if (previous.last_success_at && previous.last_success_at.getTime() >= lastFailure) return true;
  return attemptedAt - lastFailure >= FAILURE_SIGNAL_INTERVAL_MS || attemptedAt < lastFailure;
}

type Outcome = { succeeded: boolean; response_status: number | null; error: string | null; retry_after_ms: number | null };

function outcomeOf(attempt: Outcome, input: AttemptInput): AttemptOutcome {
  if (attempt.succeeded) return { result: 'succeeded', deliveryStatus: 'succeeded', status: attempt.response_status, error: null, nextDelayMs: null };
  const nextDelayMs = input.trigger === 'manual' || input.retryDelayMs === null ? null : waitBeforeRetry(input.retryDelayMs, attempt.retry_after_ms);
  const last = input.trigger === 'scheduled' && input.retryDelayMs === null;
  return { result: 'failed', deliveryStatus: last ? 'failed' : 'retrying', status: attempt.response_status, error: attempt.error, nextDelayMs };
}

export function createDeliveryActivities({ db, temporal, secretBox, logger, config, tracing }: ActivityDeps, hooks: AttemptHooks = {}) {
  async function cancel(deliveryId: string, reason: string): Promise<void> {
    await db('deliveries')
      .where({ id: deliveryId })
      .whereIn('status', ['pending', 'retrying'])
      .update({ status: 'cancelled', last_error: reason, next_attempt_at: null, paced_until: null, stalled_reason: null, stalled_since: null, completed_at: db.fn.now(), updated_at: db.fn.now() });
  }

  /**
   * A try failed on our infrastructure (or its time-out cut it). From the second one on the delivery is stalled: in
   * this process's memory (the `ckw_deliveries_stalled` gauge), in the log, and on its row when the database takes
   * the write (not when the database is what the try was stuck on). The retry policy tries the step again.
   */
  async function noteStall(deliveryId: string, info: { attempt: number; scheduledTimestampMs: number }, reason: StallReason, err: unknown, writable: boolean): Promise<void> {
    if (info.attempt < 2) return; // the first failure is retried 2 s later: a blip until it happens again
    stalledDeliveries.mark(deliveryId, reason, info.scheduledTimestampMs);
    const message = err instanceof Error ? err.message : String(err);
    logger.warn({ deliveryId, reason, attempt: info.attempt, err: message }, 'delivery stalled: its attempt keeps failing on our infrastructure and is retried until that is back');
    if (!writable) return;
    await within(deliveriesStore.markStalled(db, deliveryId, reason, new Date(info.scheduledTimestampMs)), STALL_WRITE_TIMEOUT_MS, 'the stall mark').catch((writeErr: Error) =>
      logger.debug({ deliveryId, err: writeErr.message }, 'the stall could not be recorded on the delivery'),
    );
  }

  /** The step went through: the delivery is no longer stalled (the statement that recorded it has cleared the row). */
  async function endStall(deliveryId: string): Promise<void> {
    stalledDeliveries.clear(deliveryId);
    await deliveriesStore.clearStalled(db, deliveryId).catch((err: Error) => logger.warn({ deliveryId, err: err.message }, 'a stall mark could not be cleared'));
  }

  /**
   * Signals the outcome to the webhook's health workflow, starting it if it is missing. `repeat`: the outcome was
   * recorded by an earlier try of this step that then failed, possibly on this very signal (Temporal unreachable).
   */
  async function reportToHealth(ctx: AttemptContext, attempt: Outcome, attemptedAt: number, outcomes: RecordedOutcome, repeat: boolean): Promise<void> {
    if (attempt.succeeded && !successMattersToHealth(outcomes.last_failure_at, attemptedAt)) return;
    // `ctx.webhook` is the webhook as it was before this attempt — unless the attempt was recorded by an earlier try,
    // whose record already moved last_failure_at to this very failure: it would look like no news, and the failure
    // would never reach the health rule. A repeat is sent (it changes no day count if the first one got there).
    if (!attempt.succeeded && ctx.webhook && !repeat && !failureMattersToHealth(ctx.webhook, attemptedAt)) return;
    await temporal.workflow.signalWithStart<WorkflowSignatures['webhookHealthWorkflow'], [AttemptOutcomeSignal]>(workflowTypes.webhookHealthWorkflow, {
      workflowId: webhookHealthWorkflowId(ctx.delivery.webhook_id),
      taskQueue: config.taskQueue,
      args: [{ webhookId: ctx.delivery.webhook_id }],
      signal: attemptOutcomeSignal,
      signalArgs: [
        {
          deliveryId: ctx.delivery.id,
          succeeded: attempt.succeeded,
          at: attemptedAt,
          status: attempt.response_status,
          error: attempt.error,
          // A concurrent success whose own signal was skipped still counts for this failure's day.
          lastSuccessAt: outcomes.last_success_at?.getTime() ?? null,
        },
      ],
    });
  }

  /**
   * The health signal once the outcome is recorded. A programming error in it must not undo the recorded outcome nor
   * retry the step for ever: it is logged (the health workflow misses this one outcome). Infrastructure faults retry.
   */
  async function reportRecorded(ctx: AttemptContext, attempt: Outcome, attemptedAt: number, outcomes: RecordedOutcome, repeat = false): Promise<void> {
    try {
      await reportToHealth(ctx, attempt, attemptedAt, outcomes, repeat);
    } catch (err) {
      if (!isUndeliverable(err)) throw err;
      logger.error({ deliveryId: ctx.delivery.id, err }, 'the attempt outcome could not be reported to the health workflow');
    }
  }

  /** The request for this attempt, or UndeliverableError naming why the stored data cannot make one. */
  function prepareRequest(ctx: AttemptContext & { webhook: NonNullable<AttemptContext['webhook']>; event: NonNullable<AttemptContext['event']> }) {
    const { delivery, webhook, event } = ctx;
    try {
      const url = secretBox.open(webhook.target_ciphertext);
      const request = buildRequest(webhook.destination, toEventPayload(event), {
        url,
        secret: secretBox.open(webhook.secret_ciphertext),
        deliveryId: delivery.id,
        // Stamped with the sending clock (not workflow time): receivers check it against theirs for replay protection.
        ...(webhook.standard_webhooks ? { standardWebhooks: { timestampSeconds: Math.floor(Date.now() / 1000) } } : {}),
      });
      return { url, request };
    } catch (err) {
      throw new UndeliverableError(`the request cannot be built from the stored delivery: ${(err as Error).message}`, { cause: err });
    }
  }

  async function attempt(input: AttemptInput, started: (attemptId: string) => void, phase: Phase, retried: boolean): Promise<AttemptOutcome> {
    const ctx = await deliveryAttemptsStore.loadContext(db, input.deliveryId, input.idempotencyKey);
    if (!ctx) throw new UndeliverableError(`delivery ${input.deliveryId} not found`);
    const { delivery, webhook, event, lastTry } = ctx;

    if (lastTry && lastTry.succeeded !== null) {
      // The health signal may not have gone out before the crash: send it again (a repeat changes no day count).
      // When this step's previous try failed here (Temporal unreachable for the signal, say), the record it left
      // makes the failure look like no news: it is sent regardless.
      const outcomes = webhook ?? { last_failure_at: null, last_success_at: null };
      const recorded = { ...lastTry, succeeded: lastTry.succeeded };
      phase.on = 'temporal';
      await reportRecorded(ctx, recorded, input.attemptedAt, outcomes, retried);
      phase.on = 'database';
      // A stall another worker marked before the step moved here (this path is a crash's or a failed signal's).
      await deliveriesStore.clearStalled(db, delivery.id);
      return outcomeOf(recorded, input);
    }
    if (!webhook || webhook.deleted_at || webhook.status === 'disabled') {
      const reason = !webhook || webhook.deleted_at ? 'Webhook deleted' : 'Webhook disabled';
      // A try a crash cut short still counts: the receiver may have seen it.
      if (lastTry) await deliveryAttemptsStore.markInterrupted(db, lastTry.id, interruptedNotResentError(reason));
      await cancel(delivery.id, reason);
      return { result: 'cancelled', deliveryStatus: 'cancelled', status: null, error: reason, nextDelayMs: null };
    }
    if (!event) throw new UndeliverableError(`event ${delivery.event_id} not found`);
    // A slow endpoint's local attempt hands over before anything is reserved or written: the regular activity does it.
    if (isSlowEndpoint(webhook) && Context.current().info.isLocal) {
      return { result: 'handoff', deliveryStatus: delivery.status === 'retrying' ? 'retrying' : 'pending', status: null, error: null, nextDelayMs: null };
    }
    // Pacing under the webhook's rate limit: reserve this step's slot on the shared reservation and, if it is
    // ahead, return without sending; the workflow waits on a durable timer and calls again with the slot reserved.
    // Not for a step cut short by a crash (it had its slot), nor for pings (a person is waiting for the answer).
    const limited = webhook.rate_limit !== null && !lastTry && delivery.event_type !== 'ping';
    const waiting = (slotAt: number, waitMs: number): AttemptOutcome => {
      deliveriesPaced.inc({ destination: webhook.destination });
      const deliveryStatus = delivery.status === 'retrying' ? 'retrying' : 'pending';
      return { result: 'paced', deliveryStatus, status: null, error: null, nextDelayMs: null, notBefore: slotAt, waitMs };
    };
    /** Queues the step again behind the webhook's reservation: for a send the gate could not take within 1 s. */
    const queueAgain = async (gateAt: number): Promise<AttemptOutcome> => {
      const slot = await deliveryAttemptsStore.reserveSlot(db, webhook.id, delivery.id);
      return waiting(Math.max(slot?.slotAt ?? 0, gateAt), Math.max(slot?.waitMs ?? 0, gateAt - Date.now(), 1));
    };
    if (limited) {
      if (!input.slotReserved) {
        const slot = await deliveryAttemptsStore.reserveSlot(db, webhook.id, delivery.id);
        if (slot?.paced) return waiting(slot.slotAt, slot.waitMs);
      }
      // The send gate's queue, as loaded: already over a second long (timers that fired late together), queue
      // again now rather than write an attempt that the gate below would refuse.
      const gateAt = webhook.send_gate_at?.getTime() ?? 0;
      if (gateAt - Date.now() > MAX_SEND_GATE_WAIT_MS) return queueAgain(gateAt);
    }
    if (lastTry) await deliveryAttemptsStore.markInterrupted(db, lastTry.id, INTERRUPTED_ATTEMPT_ERROR);

    const { url, request } = prepareRequest({ ...ctx, webhook, event });
    const attemptedAt = new Date(input.attemptedAt);
    const requestUrl = redactUrl(webhook.destination, url);
    const attemptId = await deliveryAttemptsStore.start(db, {
      delivery_id: delivery.id,
      idempotency_key: lastTry ? `${input.idempotencyKey}#${lastTry.id}` : input.idempotencyKey,
      step_key: input.idempotencyKey,
      trigger: input.requested ? 'manual' : input.trigger,
      attempted_at: attemptedAt,
      request_url: requestUrl,
      request_headers: request.headers,
      request_body: request.body,
      // The attempt's own span is active here (Temporal's activity interceptor): its trace is the event's.
      trace_id: tracing?.currentTraceId(),
    });
    started(attemptId);

    if (limited) {
      // The send gate, last thing before the request: sends go out the pacing interval apart, however late and
      // bunched their timers fired. A wait of up to 1 s is taken here, until the gate's time itself (so a late
      // answer from the database does not move this send towards the next; clocks are assumed NTP-close, as
      // Temporal assumes too); a longer queue sends the step back to a durable timer, its unsent attempt removed.
      const gate = await deliveryAttemptsStore.reserveSendTime(db, webhook.id, MAX_SEND_GATE_WAIT_MS);
      if (!gate) {
        // Refused (or the limit was just removed: the step then goes out after a short wait, unlimited).
        await deliveryAttemptsStore.discardUnsent(db, attemptId);
        return queueAgain(Math.max(webhook.send_gate_at?.getTime() ?? 0, Date.now() + MAX_SEND_GATE_WAIT_MS));
      }
      const holdMs = Math.min(gate.slotAt - Date.now(), gate.waitMs + MAX_CLOCK_SKEW_MS);
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    }
    hooks.requestSent?.(input);
    const sendOptions = { policy: config.outbound, timeoutMs: config.attemptTimeoutMs, agents: sharedAgents };
    phase.on = 'receiver';
    // With tracing on, the request gets a span (status and duration; never a header, the body or a query string).
    // Nothing is added to the request: the receiver sees no trace header.
    const sent = tracing
      ? await tracing.outgoingRequest({ url: requestUrl, destination: webhook.destination, deliveryId: delivery.id, webhookId: webhook.id }, () => sendWebhookRequest(request, sendOptions))
      : await sendWebhookRequest(request, sendOptions);
    phase.on = 'database';
    deliveryAttempts.inc({ destination: webhook.destination, result: sent.succeeded ? 'succeeded' : 'failed' });
    deliveryAttemptSeconds.observe({ destination: webhook.destination }, sent.durationMs / 1000);

    const result = {
      response_status: sent.status,
      response_body: sent.responseExcerpt,
      duration_ms: sent.durationMs,
      error: sent.error,
      succeeded: sent.succeeded,
      retry_after_ms: sent.retryAfterMs,
    };
    const outcome = outcomeOf(result, input);
    const nextAttemptAt = outcome.deliveryStatus !== 'retrying' ? null : input.nextAttemptAt ?? input.attemptedAt + (outcome.nextDelayMs ?? 0);
    const outcomes = await deliveryAttemptsStore.complete(db, {
      attemptId,
      deliveryId: delivery.id,
      webhookId: webhook.id,
      result,
      attemptedAt,
      manual: input.trigger === 'manual',
      status: outcome.deliveryStatus,
      nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt),
      failedPingReason: delivery.event_type === 'ping' ? `Ping failed: ${sent.error}` : null,
    });

    if (!outcomes) {
      // Given up while it waited on the database; a newer try has logged it as interrupted and sent again.
      logger.warn({ deliveryId: delivery.id, attemptId }, 'a late try was not recorded: a newer try of its step has taken over');
      return outcome;
    }
    phase.on = 'temporal';
    await reportRecorded(ctx, result, input.attemptedAt, outcomes);
    logger.debug({ deliveryId: delivery.id, status: sent.status, succeeded: sent.succeeded, durationMs: sent.durationMs }, 'delivery attempt');
    return outcome;
  }

  return {
    /**
     * One attempt, in three round trips to PostgreSQL: load delivery, webhook, event and any earlier try of this
     * step; write the attempt as in flight; send; complete attempt, delivery and webhook in one statement. Then
     * the outcome goes to the health workflow when it can matter. Runs as a local activity: a retry after a crash
     * finds the step's earlier try — a finished one is returned as it was (never sent twice), one cut short is
     * logged as interrupted and sent again (at-least-once, and the log says so).
     */
    async attemptDelivery(input: AttemptInput): Promise<AttemptOutcome> {
      const activity = Context.current();
      const { info } = activity;
      let attemptId: string | null = null;
      const phase: Phase = { on: 'database' };
      try {
        // Bounded by us, not only by the retry policy's time-out: a query to a hung database or a call to an
        // unreachable Temporal may never answer, and the retry must not wait for it (the SDK does not always cut a
        // retried local activity at its time-out). What the try was waiting on is why the delivery is stalled.
        const outcome = await within(
          attempt(input, (id) => void (attemptId = id), phase, info.attempt > 1),
          ATTEMPT_BOUND_MS,
          'the attempt',
        );
        if (info.attempt > 1 || stalledDeliveries.has(input.deliveryId)) await endStall(input.deliveryId);
        return outcome;
      } catch (err) {
        // A try the SDK already cut (worker shutdown) that fails late: nothing to add.
        if (activity.cancellationSignal.aborted) throw err;
        if (err instanceof TimeLimitError) {
          const { reason, part } = CUT_IN[phase.on];
          // Not written when the database is what does not answer: the write would hang too.
          await noteStall(input.deliveryId, info, reason, new Error(`no answer from ${part} within ${ATTEMPT_BOUND_MS / 1000} s`), reason !== 'database_unavailable');
          throw err;
        }
        if (!isUndeliverable(err)) {
          // Infrastructure: the retry policy tries the step again; from the second failure on, the delivery shows why.
          await noteStall(input.deliveryId, info, stallReasonOf(err), err, true);
          throw err;
        }
        // Final: the delivery ends failed with the reason in its log (and a try already written is closed with it),
        // and the workflow ends on the non-retryable failure instead of the step being retried for ever.
        const reason = `Undeliverable: ${err.message}`;
        await deliveryAttemptsStore.failUndeliverable(db, { deliveryId: input.deliveryId, attemptId, reason });
        stalledDeliveries.clear(input.deliveryId);
        logger.error({ deliveryId: input.deliveryId, err }, 'delivery failed: it cannot be attempted');
        throw ApplicationFailure.nonRetryable(reason, UNDELIVERABLE_FAILURE_TYPE);
      }
    },

    async cancelDelivery({ deliveryId, reason }: { deliveryId: string; reason: string }): Promise<void> {
      await cancel(deliveryId, reason);
    },
  };
}

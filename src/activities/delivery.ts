import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DeliveryStatus } from '../db/stores/deliveries';
import { deliveryAttemptsStore, AttemptContext, AttemptTrigger, RecordedOutcome } from '../db/stores/delivery-attempts';
import { buildRequest, redactUrl } from '../destinations';
import { toEventPayload } from '../domain/event-payload';
import { sendWebhookRequest, sharedAgents } from '../delivery/http-sender';
import { AttemptOutcomeSignal, attemptOutcomeSignal, UNDELIVERABLE_FAILURE_TYPE, webhookHealthWorkflowId, WorkflowSignatures, workflowTypes } from '../workflows/messages';
import { waitBeforeRetry } from '../workflows/schedule';
import { deliveriesPaced, deliveryAttempts, deliveryAttemptSeconds } from '../metrics';
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

/**
 * Whether an attempt's error is final. Ours (UndeliverableError) and the built-in errors of a programming fault
 * (RangeError, TypeError, SyntaxError, ReferenceError) are: the same input fails the same way every time.
 * Everything else (PostgreSQL's errors, lost connections, Temporal's client errors) is an infrastructure fault that
 * the local activity's retry policy waits out.
 */
export function isUndeliverable(err: unknown): err is Error {
  return err instanceof UndeliverableError || err instanceof RangeError || err instanceof TypeError || err instanceof SyntaxError || err instanceof ReferenceError;
}

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
      .update({ status: 'cancelled', last_error: reason, next_attempt_at: null, paced_until: null, completed_at: db.fn.now(), updated_at: db.fn.now() });
  }

  /** Signals the outcome to the webhook's health workflow, starting it if it is missing. */
  async function reportToHealth(ctx: AttemptContext, attempt: Outcome, attemptedAt: number, outcomes: RecordedOutcome): Promise<void> {
    if (attempt.succeeded && !successMattersToHealth(outcomes.last_failure_at, attemptedAt)) return;
    // `ctx.webhook` is the webhook as it was before this attempt.
    if (!attempt.succeeded && ctx.webhook && !failureMattersToHealth(ctx.webhook, attemptedAt)) return;
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
  async function reportRecorded(ctx: AttemptContext, attempt: Outcome, attemptedAt: number, outcomes: RecordedOutcome): Promise<void> {
    try {
      await reportToHealth(ctx, attempt, attemptedAt, outcomes);
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

  async function attempt(input: AttemptInput, started: (attemptId: string) => void): Promise<AttemptOutcome> {
    const ctx = await deliveryAttemptsStore.loadContext(db, input.deliveryId, input.idempotencyKey);
    if (!ctx) throw new UndeliverableError(`delivery ${input.deliveryId} not found`);
    const { delivery, webhook, event, lastTry } = ctx;

    if (lastTry && lastTry.succeeded !== null) {
      // The health signal may not have gone out before the crash: send it again (a repeat changes no day count).
      const outcomes = webhook ?? { last_failure_at: null, last_success_at: null };
      const recorded = { ...lastTry, succeeded: lastTry.succeeded };
      await reportRecorded(ctx, recorded, input.attemptedAt, outcomes);
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
      trigger: input.trigger,
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
    // With tracing on, the request gets a span (status and duration; never a header, the body or a query string).
    // Nothing is added to the request: the receiver sees no trace header.
    const sent = tracing
      ? await tracing.outgoingRequest({ url: requestUrl, destination: webhook.destination, deliveryId: delivery.id, webhookId: webhook.id }, () => sendWebhookRequest(request, sendOptions))
      : await sendWebhookRequest(request, sendOptions);
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
      let attemptId: string | null = null;
      try {
        return await attempt(input, (id) => void (attemptId = id));
      } catch (err) {
        if (!isUndeliverable(err)) throw err; // infrastructure: the retry policy tries the step again
        // Final: the delivery ends failed with the reason in its log (and a try already written is closed with it),
        // and the workflow ends on the non-retryable failure instead of the step being retried for ever.
        const reason = `Undeliverable: ${err.message}`;
        await deliveryAttemptsStore.failUndeliverable(db, { deliveryId: input.deliveryId, attemptId, reason });
        logger.error({ deliveryId: input.deliveryId, err }, 'delivery failed: it cannot be attempted');
        throw ApplicationFailure.nonRetryable(reason, UNDELIVERABLE_FAILURE_TYPE);
      }
    },

    async cancelDelivery({ deliveryId, reason }: { deliveryId: string; reason: string }): Promise<void> {
      await cancel(deliveryId, reason);
    },
  };
}

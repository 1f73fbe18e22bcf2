import { deliveriesStore, DeliveryStatus } from '../db/stores/deliveries';
import { deliveryAttemptsStore, DeliveryAttemptRow, AttemptTrigger } from '../db/stores/delivery-attempts';
import { eventsStore } from '../db/stores/events';
import { webhooksStore } from '../db/stores/webhooks';
import { buildRequest, redactUrl } from '../destinations';
import { toEventPayload } from '../services/event-payload';
import { sendWebhookRequest, SendResult } from '../delivery/http-sender';
import { attemptOutcomeSignal, webhookHealthWorkflowId } from '../workflows/messages';
import { webhookHealthWorkflow } from '../workflows/health';
import { deliveryAttempts, deliveryAttemptSeconds } from '../metrics';
import type { ActivityDeps } from '.';

export interface AttemptInput {
  deliveryId: string;
  trigger: AttemptTrigger;
  /** Workflow time of the attempt (epoch ms): the log and the failure-day rule use it. */
  attemptedAt: number;
  idempotencyKey: string;
  /** The wait before the next scheduled attempt if this one fails; null when it is the last. */
  retryDelayMs: number | null;
  /** For a manual attempt during back-off: when the next scheduled one is due. */
  nextAttemptAt: number | null;
}

export interface AttemptOutcome {
  result: 'succeeded' | 'failed' | 'cancelled';
  deliveryStatus: Exclude<DeliveryStatus, 'skipped'>;
  status: number | null;
  error: string | null;
  /** How long to wait before the next scheduled attempt; null when none follows. */
  nextDelayMs: number | null;
}

/**
 * A success changes the failure-day count only if a failure happened in the last three UTC days: further back,
 * every day since was a success day or a day without attempts, and either already ended the streak. Skipping
 * the signal then keeps healthy traffic from costing the health workflow a task per delivery.
 */
export function successMattersToHealth(lastFailureAt: Date | null, attemptedAt: number): boolean {
  return lastFailureAt !== null && attemptedAt - lastFailureAt.getTime() < 3 * 86_400_000;
}

export function createDeliveryActivities({ db, temporal, secretBox, logger, config }: ActivityDeps) {
  async function cancel(deliveryId: string, reason: string): Promise<void> {
    await db('deliveries')
      .where({ id: deliveryId })
      .whereIn('status', ['pending', 'retrying'])
      .update({ status: 'cancelled', last_error: reason, next_attempt_at: null, completed_at: db.fn.now(), updated_at: db.fn.now() });
  }

  function outcomeOf(attempt: Pick<DeliveryAttemptRow, 'succeeded' | 'response_status' | 'error' | 'retry_after_ms'>, input: AttemptInput): AttemptOutcome {
    if (attempt.succeeded) return { result: 'succeeded', deliveryStatus: 'succeeded', status: attempt.response_status, error: null, nextDelayMs: null };
    const nextDelayMs = input.trigger === 'manual' || input.retryDelayMs === null ? null : Math.max(input.retryDelayMs, attempt.retry_after_ms ?? 0);
    const last = input.trigger === 'scheduled' && input.retryDelayMs === null;
    return { result: 'failed', deliveryStatus: last ? 'failed' : 'retrying', status: attempt.response_status, error: attempt.error, nextDelayMs };
  }

  /** Signals the outcome to the webhook's health workflow, starting it if it is missing. */
  async function reportToHealth(
    webhookId: string,
    deliveryId: string,
    attempt: Pick<DeliveryAttemptRow, 'succeeded' | 'response_status' | 'error'>,
    attemptedAt: number,
    outcomes: { last_failure_at: Date | null; last_success_at: Date | null },
  ): Promise<void> {
    if (attempt.succeeded && !successMattersToHealth(outcomes.last_failure_at, attemptedAt)) return;
    await temporal.workflow.signalWithStart(webhookHealthWorkflow, {
      workflowId: webhookHealthWorkflowId(webhookId),
      taskQueue: config.taskQueue,
      args: [{ webhookId }],
      signal: attemptOutcomeSignal,
      signalArgs: [
        {
          deliveryId,
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

  return {
    /**
     * One attempt: checks the webhook is still live, sends, records the attempt and the delivery's new
     * status in one transaction, moves the webhook's status, and reports the outcome to its health workflow.
     */
    async attemptDelivery(input: AttemptInput): Promise<AttemptOutcome> {
      const recorded = await deliveryAttemptsStore.findByIdempotencyKey(db, input.idempotencyKey);
      if (recorded) {
        // Retried after a crash: never send twice for one step. The health signal may not have gone out
        // before the crash, so it is sent again (a repeated outcome changes nothing in the day count).
        const delivery = (await deliveriesStore.getAny(db, input.deliveryId))!;
        const outcomes = (await webhooksStore.getAny(db, delivery.webhook_id)) ?? { last_failure_at: null, last_success_at: null };
        await reportToHealth(delivery.webhook_id, delivery.id, recorded, input.attemptedAt, outcomes);
        return outcomeOf(recorded, input);
      }

      const delivery = await deliveriesStore.getAny(db, input.deliveryId);
      if (!delivery) throw new Error(`Delivery ${input.deliveryId} not found`);
      const webhook = await webhooksStore.getAny(db, delivery.webhook_id);
      if (!webhook || webhook.deleted_at || webhook.status === 'disabled') {
        const reason = !webhook || webhook.deleted_at ? 'Webhook deleted' : 'Webhook disabled';
        await cancel(delivery.id, reason);
        return { result: 'cancelled', deliveryStatus: 'cancelled', status: null, error: reason, nextDelayMs: null };
      }
      const event = await eventsStore.get(db, delivery.organization_id, delivery.event_id);
      if (!event) throw new Error(`Event ${delivery.event_id} not found`);

      const url = secretBox.open(webhook.target_ciphertext);
      const request = buildRequest(webhook.destination, toEventPayload(event), {
        url,
        secret: secretBox.open(webhook.secret_ciphertext),
        deliveryId: delivery.id,
        // Stamped with the sending clock (not workflow time): receivers check it against theirs for replay protection.
        ...(webhook.standard_webhooks ? { standardWebhooks: { timestampSeconds: Math.floor(Date.now() / 1000) } } : {}),
      });
      const sent: SendResult = await sendWebhookRequest(request, { policy: config.outbound, timeoutMs: config.attemptTimeoutMs });
      deliveryAttempts.inc({ destination: webhook.destination, result: sent.succeeded ? 'succeeded' : 'failed' });
      deliveryAttemptSeconds.observe({ destination: webhook.destination }, sent.durationMs / 1000);

      const attemptRow = {
        delivery_id: delivery.id,
        idempotency_key: input.idempotencyKey,
        trigger: input.trigger,
        attempted_at: new Date(input.attemptedAt),
        request_url: redactUrl(webhook.destination, url),
        request_headers: request.headers,
        request_body: request.body,
        response_status: sent.status,
        response_body: sent.responseExcerpt,
        duration_ms: sent.durationMs,
        error: sent.error,
        succeeded: sent.succeeded,
        retry_after_ms: sent.retryAfterMs,
      };
      const outcome = outcomeOf(attemptRow, input);
      const nextAttemptAt =
        outcome.deliveryStatus !== 'retrying' ? null : input.nextAttemptAt ?? input.attemptedAt + (outcome.nextDelayMs ?? 0);

      const outcomes = await db.transaction(async (trx) => {
        await trx('deliveries').where({ id: delivery.id }).forUpdate().first();
        await deliveryAttemptsStore.insert(trx, attemptRow);
        // A manual attempt that fails leaves a finished delivery as it was, and a waiting one waiting.
        const finished = ['succeeded', 'failed', 'cancelled'].includes(delivery.status);
        const status: DeliveryStatus = outcome.result === 'succeeded' ? 'succeeded' : input.trigger === 'manual' && finished ? delivery.status : outcome.deliveryStatus;
        await trx('deliveries')
          .where({ id: delivery.id })
          .update({
            status,
            attempt_count: trx.raw('attempt_count + 1'),
            last_response_status: sent.status,
            last_error: sent.error,
            next_attempt_at: status === 'retrying' && nextAttemptAt ? new Date(nextAttemptAt) : null,
            completed_at: ['succeeded', 'failed'].includes(status) ? new Date(input.attemptedAt) : null,
            updated_at: trx.fn.now(),
          });
        if (sent.succeeded) {
          await webhooksStore.transition(trx, webhook.id, ['pending', 'inactive'], 'active', null);
        } else if (delivery.event_type === 'ping') {
          await webhooksStore.transition(trx, webhook.id, ['pending'], 'inactive', `Ping failed: ${sent.error}`);
        }
        return webhooksStore.recordOutcome(trx, webhook.id, sent.succeeded, new Date(input.attemptedAt));
      });

      await reportToHealth(delivery.webhook_id, delivery.id, attemptRow, input.attemptedAt, outcomes);
      logger.debug({ deliveryId: delivery.id, status: sent.status, succeeded: sent.succeeded, durationMs: sent.durationMs }, 'delivery attempt');
      return outcome;
    },

    async cancelDelivery({ deliveryId, reason }: { deliveryId: string; reason: string }): Promise<void> {
      await cancel(deliveryId, reason);
    },
  };
}

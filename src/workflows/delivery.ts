import { ActivityFailure, ApplicationFailure, condition, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AttemptOutcome } from '../activities/delivery';
import {
  DeliveryProgress,
  DeliveryWorkflowInput,
  deliveryProgressQuery,
  redeliverSignal,
  searchAttributes,
  stopDeliverySignal,
  UNDELIVERABLE_FAILURE_TYPE,
} from './messages';
import { SCHEDULED_ATTEMPTS, retryDelayAfter } from './schedule';

// The attempt is a local activity: it runs inside the workflow task, so a delivery costs one workflow task and no
// activity task round trip. Its retries cover infrastructure faults only (the database down); an endpoint's answer
// never throws: it comes back as an outcome, and the back-off below is ours. If the worker dies mid-attempt the
// workflow task times out (10 s) and another worker re-runs the step, which logs the cut try and sends again.
// An attempt that can never succeed (bad stored data, an unusable secret, a programming error) records the delivery
// as failed and throws a non-retryable failure (UNDELIVERABLE_FAILURE_TYPE): the workflow then ends `failed`.
const ATTEMPT_OPTIONS = {
  // The 10 s request plus three queries and the health signal (with a rate limit: two reservations and at most
  // 1 s at the send gate). The attempt bounds itself a little below this (ATTEMPT_BOUND_MS), naming what hung.
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;
const { attemptDelivery, cancelDelivery } = proxyLocalActivities<Activities>(ATTEMPT_OPTIONS);
// A slow endpoint's attempt (the local one hands it over): a regular activity, so no workflow-task slot is held
// while the request is out. Same step key, so a retry after a crash finds its earlier try as before.
const { attemptDelivery: attemptSlowEndpoint } = proxyActivities<Activities>(ATTEMPT_OPTIONS);

/**
 * One delivery of one event to one webhook: an attempt, then durable timers of 1 m, 5 m, 30 m, 2 h
 * and 12 h between retries. A `redeliver` signal attempts at once and the schedule carries on.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryProgress> {
  const { runId } = workflowInfo();
  const progress: DeliveryProgress = { status: 'pending', scheduledAttempts: 0, manualAttempts: 0, nextAttemptAt: null, lastError: null };
  // Redeliver requests received, and how many of them an attempt has answered (counted, not a flag: a run started by
  // a redeliver gets that signal's handler call whenever the SDK runs it, which may be after its first attempt began).
  let redeliverRequests = 0;
  let answeredRequests = 0;
  let stopReason: string | null = null;

  setHandler(redeliverSignal, () => void redeliverRequests++);
  setHandler(stopDeliverySignal, ({ reason }) => void (stopReason = reason));
  setHandler(deliveryProgressQuery, () => progress);

  // `DeliveryStatus` is shown once the delivery leaves the straight path (see DeliveryWorkflowInput): a success straight
  // from `pending` is a first-attempt success, which the run's own status, Completed, says. Runs started before the
  // flag carry `pending` from their start options and show every status.
  const setStatus = (status: DeliveryProgress['status']) => {
    const straight = input.deliveryStatusOnDetour === true && status === 'succeeded' && progress.status === 'pending';
    progress.status = status;
    if (!straight) upsertSearchAttributes([{ key: searchAttributes.deliveryStatus, value: status }]);
  };

  const attempt = async (trigger: 'scheduled' | 'manual', retryDelayMs: number | null, nextAttemptAt: number | null, requested = false) => {
    // Any redeliver request received so far is answered by this attempt; the first attempt of a run a redeliver
    // started answers that one too, even if its signal has not been handled yet.
    answeredRequests = requested ? Math.max(redeliverRequests, 1) : redeliverRequests;
    const n = trigger === 'scheduled' ? ++progress.scheduledAttempts : ++progress.manualAttempts;
    const step = {
      deliveryId: input.deliveryId,
      trigger,
      attemptedAt: Date.now(),
      idempotencyKey: `${runId}:${trigger}:${n}`,
      retryDelayMs,
      nextAttemptAt,
      ...(requested ? { requested: true } : {}),
    };
    // A slow endpoint's local attempt hands over to a regular activity (the same step).
    const attemptStep = async (s: typeof step & { slotReserved?: boolean }) => {
      const local = await attemptDelivery(s);
      return local.result === 'handoff' ? attemptSlowEndpoint(s) : local;
    };
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptStep(step);
      // The webhook's rate limit reserved this step a slot ahead: wait for it on a durable timer (no slot, activity
      // or loop held), then call again with the slot reserved (paced again only if the send gate's queue is over a
      // second long). A stop (webhook deleted or disabled) ends the wait early; the attempt then finds the webhook
      // gone and cancels. Unpaced webhooks never get here: no extra command.
      while (outcome.result === 'paced') {
        await condition(() => stopReason !== null, outcome.waitMs ?? 0);
        outcome = await attemptStep({ ...step, attemptedAt: Date.now(), slotReserved: true });
      }
    } catch (err) {
      // A local activity's failure may come as the ApplicationFailure itself or wrapped in an ActivityFailure.
      const failure = err instanceof ActivityFailure ? err.cause : err;
      if (!(failure instanceof ApplicationFailure) || failure.type !== UNDELIVERABLE_FAILURE_TYPE) throw err;
      // Already recorded as failed, with its reason, by the attempt: end here (no further attempt can do better).
      outcome = { result: 'failed', deliveryStatus: 'failed', status: null, error: failure.message, nextDelayMs: null };
    }
    progress.lastError = outcome.error;
    return outcome;
  };

  for (let index = 0; index < SCHEDULED_ATTEMPTS; index++) {
    if (stopReason) break;
    const outcome = await attempt('scheduled', retryDelayAfter(index), null, index === 0 && input.startedOnRequest === true);
    if (outcome.result !== 'failed' || outcome.nextDelayMs === null) {
      setStatus(outcome.deliveryStatus);
      return progress;
    }
    setStatus('retrying');
    const due = Date.now() + outcome.nextDelayMs;
    progress.nextAttemptAt = new Date(due).toISOString();

    // Wait out the back-off on a durable timer, attempting early whenever a redelivery is asked for.
    while (!stopReason && Date.now() < due) {
      const woken = await condition(() => redeliverRequests > answeredRequests || stopReason !== null, due - Date.now());
      if (!woken || stopReason) break;
      const manual = await attempt('manual', null, due);
      // A failed manual attempt continues the schedule, unless it failed for good (undeliverable).
      if (manual.result !== 'failed' || manual.deliveryStatus === 'failed') {
        setStatus(manual.deliveryStatus);
        return progress;
      }
    }
    progress.nextAttemptAt = null;
  }

  if (stopReason) {
    await cancelDelivery({ deliveryId: input.deliveryId, reason: stopReason });
    setStatus('cancelled');
  } else {
    setStatus('failed');
  }
  return progress;
}

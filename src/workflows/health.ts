import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  AttemptOutcomeSignal,
  WebhookHealth,
  WebhookHealthInput,
  attemptOutcomeSignal,
  webhookDeletedSignal,
  webhookEnabledSignal,
  webhookHealthQuery,
} from './messages';
import {
  breakExpiredStreak,
  closeOpenDay,
  currentStreak,
  dayEnd,
  disableDay,
  initialFailureDayState,
  markWarned,
  recordOutcome,
  streakBreaksAt,
  warningDue,
} from './failure-days';

const { disableWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});
// SMTP may be down for a while: keep retrying; the activity itself makes sure one email goes out.
const { sendDisabledEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
// The warning waits in the loop that closes days: bounded, so an SMTP outage cannot delay a disable for long.
// If it gives up, the warning is tried again at the next wake-up.
const { sendFailureWarningEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Bounds one run's history: continue as new after this many outcomes even if not yet suggested. Each
 * outcome costs its signal event plus a share of workflow-task events (about 2.4 events in all), so
 * 100 keeps a busy run to a few hundred events.
 */
const MAX_OUTCOMES_PER_RUN = 100;

/**
 * One per webhook, for its whole life: counts consecutive UTC failure days from attempt outcomes; after the
 * first, warns the owner once; at the end of the third, disables the webhook and emails its owner once.
 */
export async function webhookHealthWorkflow(input: WebhookHealthInput): Promise<void> {
  const state = input.state ?? { ...initialFailureDayState(), disabled: false };
  const queue: AttemptOutcomeSignal[] = [...(input.pending ?? [])];
  let enabled = false;
  let deleted = false;
  let processed = 0;

  setHandler(attemptOutcomeSignal, (outcome) => void queue.push(outcome));
  setHandler(webhookEnabledSignal, () => void (enabled = true));
  setHandler(webhookDeletedSignal, () => void (deleted = true));
  setHandler(webhookHealthQuery, (): WebhookHealth => ({
    consecutiveFailureDays: currentStreak(state, Date.now()),
    failingSince: state.failingSince,
    lastError: state.lastError,
    lastFailureAt: state.lastFailureAt,
    disabled: state.disabled,
  }));

  const disable = async () => {
    if (state.disabled) return;
    state.disabled = true;
    const reason = `Failing for ${state.streak} consecutive days`;
    await disableWebhook({ webhookId: input.webhookId, reason, failingSince: state.failingSince });
    await sendDisabledEmail({ webhookId: input.webhookId, failingSince: state.failingSince, lastError: state.lastError });
  };

  // After the first full failure day of a streak, one warning: the day the webhook will be disabled, unless a delivery succeeds.
  const warnIfDue = async () => {
    if (state.disabled || !warningDue(state)) return;
    const warnedBefore = state.warnedFailingSince ?? null;
    markWarned(state);
    try {
      await sendFailureWarningEmail({ webhookId: input.webhookId, failingSince: state.failingSince!, lastError: state.lastError, disableAfterDay: disableDay(state)! });
    } catch {
      state.warnedFailingSince = warnedBefore; // not sent: due again at the next wake-up
    }
  };

  for (;;) {
    // A query reads workflow time, which stands still while the workflow sleeps: wake when a streak
    // breaks for want of attempts too, so the state (and the query) never shows a broken streak.
    const closesAt = state.openDay ? dayEnd(state.openDay) : streakBreaksAt(state);
    const wakeUp = () => queue.length > 0 || enabled || deleted || workflowInfo().continueAsNewSuggested;
    // With a day open, wake at its end (UTC midnight) to close it; otherwise wait for the next outcome.
    const woke = closesAt === null ? (await condition(wakeUp), true) : await condition(wakeUp, Math.max(closesAt - Date.now(), 1));
    if (deleted) return;
    if (enabled) {
      // Re-enabled by the owner: the streak starts over and the rule applies afresh.
      enabled = false;
      Object.assign(state, initialFailureDayState(), { disabled: false });
    }
    while (queue.length) {
      const outcome = queue.shift()!;
      processed++;
      if (recordOutcome(state, outcome)) await disable();
    }
    let dayClosed = false;
    if (state.openDay && Date.now() >= dayEnd(state.openDay)) {
      if (closeOpenDay(state)) await disable();
      dayClosed = true;
    }
    if (!state.openDay && breakExpiredStreak(state, Date.now())) dayClosed = true;
    // Histories from before the warning existed replay without it.
    if (patched('failure-warning-email')) await warnIfDue();
    // Continue as new at least daily, and sooner under heavy traffic, carrying only the small state.
    if (!woke || dayClosed || processed >= MAX_OUTCOMES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      if (deleted) return;
      return continueAsNew<typeof webhookHealthWorkflow>({ webhookId: input.webhookId, state, pending: queue.splice(0) });
    }
  }
}

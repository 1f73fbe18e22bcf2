/**
 * The failure-day rule as pure functions over plain JSON state (workflow-safe, unit-tested).
 * A failure day is a UTC calendar day with at least one failed attempt and no success; a success
 * resets the streak and a day without attempts breaks it.
 */
export const DISABLE_AFTER_FAILURE_DAYS = 3;
const DAY_MS = 86_400_000;

export interface FailureDayState {
  /** The UTC day (YYYY-MM-DD) whose attempts are being collected, or null when none are. */
  openDay: string | null;
  openDayFailed: boolean;
  openDaySucceeded: boolean;
  openDayFirstFailureAt: string | null;
  /** Closed failure days in the current streak, and the last of them. */
  streak: number;
  lastFailureDay: string | null;
  failingSince: string | null;
  lastError: string | null;
  lastFailureAt: string | null;
  /** The last UTC day with a success (optional: states carried over from older runs lack it). */
  lastSuccessDay?: string | null;
  /** The failingSince of the streak the owner was warned about (optional, like lastSuccessDay). */
  warnedFailingSince?: string | null;
}

export const initialFailureDayState = (): FailureDayState => ({
  openDay: null,
  openDayFailed: false,
  openDaySucceeded: false,
  openDayFirstFailureAt: null,
  streak: 0,
  lastFailureDay: null,
  failingSince: null,
  lastError: null,
  lastFailureAt: null,
  lastSuccessDay: null,
  warnedFailingSince: null,
});

export const utcDay = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);
export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
export const dayEnd = (day: string): number => dayStart(day) + DAY_MS;
const previousDay = (day: string): string => utcDay(dayStart(day) - DAY_MS);

/** Closes the open day; returns true when it made the streak reach the disable threshold. */
export function closeOpenDay(s: FailureDayState): boolean {
  const day = s.openDay;
  if (!day) return false;
  const failureDay = s.openDayFailed && !s.openDaySucceeded;
  if (failureDay) {
    const continues = s.lastFailureDay !== null && s.lastFailureDay === previousDay(day) && s.streak > 0;
    s.streak = continues ? s.streak + 1 : 1;
    if (!continues) s.failingSince = s.openDayFirstFailureAt;
    s.lastFailureDay = day;
  }
  s.openDay = null;
  s.openDayFailed = false;
  s.openDaySucceeded = false;
  s.openDayFirstFailureAt = null;
  return failureDay && s.streak >= DISABLE_AFTER_FAILURE_DAYS;
}

/** Records one attempt outcome; returns true when closing an earlier open day reached the threshold. */
export function recordOutcome(
  s: FailureDayState,
  outcome: { succeeded: boolean; at: number; error: string | null; lastSuccessAt?: number | null },
): boolean {
  const day = utcDay(outcome.at);
  let reached = false;
  // A failure carries the webhook's last success, which the delivery activity may not have signalled: count
  // it first, once, when it falls on a day still in play (after the last failure day, not before the open day).
  const successDay = !outcome.succeeded && outcome.lastSuccessAt != null ? utcDay(outcome.lastSuccessAt) : null;
  if (successDay && successDay > (s.lastFailureDay ?? '') && successDay > (s.lastSuccessDay ?? '') && successDay >= (s.openDay ?? '')) {
    reached = recordOutcome(s, { succeeded: true, at: outcome.lastSuccessAt!, error: null });
  }
  // A late signal for a day already closed counts on the open one: the days only move forward.
  if (s.openDay && day > s.openDay) reached = closeOpenDay(s) || reached;
  // A late failure for a day already closed and settled (counted as a failure day, or with a success so
  // never one) changes nothing: reopening that day would count it again and restart the streak at 1.
  const settled = (s.lastFailureDay != null && day <= s.lastFailureDay) || (s.lastSuccessDay != null && day <= s.lastSuccessDay);
  if (!s.openDay && !outcome.succeeded && settled) {
    const failedAt = new Date(outcome.at).toISOString();
    if (failedAt > (s.lastFailureAt ?? '')) Object.assign(s, { lastError: outcome.error, lastFailureAt: failedAt });
    return reached;
  }
  if (!s.openDay) s.openDay = day;
  if (outcome.succeeded) {
    s.openDaySucceeded = true;
    s.streak = 0;
    s.lastFailureDay = null;
    s.failingSince = null;
    if (day > (s.lastSuccessDay ?? '')) s.lastSuccessDay = day;
  } else {
    s.openDayFailed = true;
    s.openDayFirstFailureAt ??= new Date(outcome.at).toISOString();
    s.lastError = outcome.error;
    s.lastFailureAt = new Date(outcome.at).toISOString();
  }
  return reached;
}

/** When a streak with no day open breaks unless an attempt comes first: the end of the day after its last failure day. */
export function streakBreaksAt(s: FailureDayState): number | null {
  if (s.openDay || !s.lastFailureDay || s.streak === 0) return null;
  return dayEnd(utcDay(dayEnd(s.lastFailureDay)));
}

/** Breaks a streak whose next day passed without attempts (see streakBreaksAt); returns true when it did. */
export function breakExpiredStreak(s: FailureDayState, now: number): boolean {
  const breaksAt = streakBreaksAt(s);
  if (breaksAt === null || now < breaksAt) return false;
  s.streak = 0;
  s.lastFailureDay = null;
  s.failingSince = null;
  return true;
}

/** The streak as of `now`: a streak whose next day passed without attempts is already broken. */
export function currentStreak(s: FailureDayState, now: number): number {
  if (!s.lastFailureDay) return 0;
  const next = utcDay(dayEnd(s.lastFailureDay));
  const nextIsOver = now >= dayEnd(next);
  return nextIsOver && s.openDay !== next ? 0 : s.streak;
}

/**
 * The warning before the disable is due: the streak has at least one closed failure day, has not reached the
 * threshold, and this streak (known by when it began) was not warned about yet. A new streak can warn again.
 */
export function warningDue(s: FailureDayState): boolean {
  return s.streak >= 1 && s.streak < DISABLE_AFTER_FAILURE_DAYS && s.failingSince !== null && s.warnedFailingSince !== s.failingSince;
}

/** Records that the current streak's warning went out. */
export function markWarned(s: FailureDayState): void {
  s.warnedFailingSince = s.failingSince;
}

/** The last day that would complete the disabling streak if every day until then is a failure day, or null without a streak. */
export function disableDay(s: FailureDayState): string | null {
  if (!s.lastFailureDay || s.streak === 0) return null;
  return utcDay(dayStart(s.lastFailureDay) + (DISABLE_AFTER_FAILURE_DAYS - s.streak) * DAY_MS);
}

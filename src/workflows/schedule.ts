/** Waits before retries 1–5 after the previous failed attempt (the spec's "Retry Behaviour"). */
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 12 * 3_600_000] as const;

/** The initial attempt plus one per retry delay. */
export const SCHEDULED_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The wait after scheduled attempt `index` (0-based) fails, or null after the last one. */
export function retryDelayAfter(index: number): number | null {
  return index < RETRY_DELAYS_MS.length ? RETRY_DELAYS_MS[index] : null;
}

/** The longest a receiver's Retry-After can stretch one wait: the schedule's own longest step. */
export const MAX_RETRY_AFTER_MS = RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1];

/**
 * The wait after a failed scheduled attempt: the schedule's step, or the receiver's Retry-After when that is
 * longer, capped at 12 h so a receiver cannot park a delivery for longer than the schedule's last step.
 */
export function waitBeforeRetry(stepMs: number, retryAfterMs: number | null): number {
  return Math.max(stepMs, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

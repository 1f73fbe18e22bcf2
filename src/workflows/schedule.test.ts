import { MAX_RETRY_AFTER_MS, RETRY_DELAYS_MS, retryDelayAfter, SCHEDULED_ATTEMPTS, waitBeforeRetry } from './schedule';

describe('the retry schedule', () => {
  it('waits 1 m, 5 m, 30 m, 2 h and 12 h between six scheduled attempts', () => {
    expect(SCHEDULED_ATTEMPTS).toBe(6);
    expect(Array.from({ length: SCHEDULED_ATTEMPTS }, (_, i) => retryDelayAfter(i))).toEqual([60_000, 300_000, 1_800_000, 7_200_000, 43_200_000, null]);
  });
});

describe('waitBeforeRetry', () => {
  it("keeps the schedule's step when the receiver gives no Retry-After or a shorter one", () => {
    expect(waitBeforeRetry(60_000, null)).toBe(60_000);
    expect(waitBeforeRetry(300_000, 30_000)).toBe(300_000);
  });

  it('waits longer when Retry-After asks for it', () => {
    expect(waitBeforeRetry(60_000, 600_000)).toBe(600_000);
  });

  it("caps a Retry-After at the schedule's longest step (12 h)", () => {
    expect(MAX_RETRY_AFTER_MS).toBe(RETRY_DELAYS_MS[4]);
    expect(waitBeforeRetry(60_000, 365 * 24 * 3_600_000)).toBe(12 * 3_600_000);
    expect(waitBeforeRetry(60_000, 12 * 3_600_000 + 1)).toBe(12 * 3_600_000);
  });
});

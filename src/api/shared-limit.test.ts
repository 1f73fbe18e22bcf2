import { loadConfig, MAX_RATE_LIMIT_COUNT } from '../config';
import { retryAfterSeconds, windowFor } from './shared-limit';

describe('windowFor: a burst and a rate as one fixed window', () => {
  it('keeps the burst, and the rate over the window: 1,000 at 100/s is 1,000 per 10 s', () => {
    expect(windowFor(1000, 100)).toEqual({ points: 1000, windowSeconds: 10 });
  });

  it('takes fractional rates: 5 at 0.01/s is 5 per 500 s', () => {
    expect(windowFor(5, 0.01)).toEqual({ points: 5, windowSeconds: 500 });
  });

  it('rounds a window up to whole seconds, so the rate is never exceeded', () => {
    const window = windowFor(7, 3);
    expect(window).toEqual({ points: 7, windowSeconds: 3 });
    expect(window.points / window.windowSeconds).toBeLessThanOrEqual(3);
  });

  it('gives a rate above its burst a 1-second window of the whole seconds of that rate', () => {
    expect(windowFor(10, 250.5)).toEqual({ points: 250, windowSeconds: 1 });
    expect(windowFor(1_000_000, 1_000_000)).toEqual({ points: 1_000_000, windowSeconds: 1 });
  });
});

describe('retryAfterSeconds', () => {
  it('rounds the time left in the window up to whole seconds', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(59_999)).toBe(60);
  });

  it('never says 0: a window just ended is still "retry after 1 s"', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(-5)).toBe(1);
  });
});

describe('limits in the configuration', () => {
  it('refuses a count the PostgreSQL integer column cannot hold, naming the variable', () => {
    for (const name of ['RATE_LIMIT_PER_MINUTE', 'INGEST_RATE_LIMIT_PER_SECOND', 'INGEST_RATE_LIMIT_BURST', 'AUTH_FAILURE_LIMIT_PER_MINUTE']) {
      expect(() => loadConfig({ [name]: String(MAX_RATE_LIMIT_COUNT * 3) })).toThrow(new RegExp(`${name}: `));
      expect(loadConfig({ [name]: String(MAX_RATE_LIMIT_COUNT) }).rateLimits).toBeDefined();
    }
  });
});

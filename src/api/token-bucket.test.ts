import { TokenBuckets } from './token-bucket';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBuckets', () => {
  it('allows a burst up to the capacity, then refuses with the wait until the next token', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 5, refillPerSecond: 0.5, now: c.now });
    for (let i = 0; i < 5; i++) expect(buckets.take('k')).toEqual({ allowed: true });
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    c.advance(1000);
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(buckets.take('k')).toEqual({ allowed: true });
    expect(buckets.take('k').allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    const buckets = new TokenBuckets({ capacity: 1, refillPerSecond: 1, now: clock().now });
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('refills at the configured rate, never above the capacity', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 3, refillPerSecond: 100, now: c.now });
    for (let i = 0; i < 3; i++) buckets.take('k');
    c.advance(60_000);
    const results = Array.from({ length: 4 }, () => buckets.take('k').allowed);
    expect(results).toEqual([true, true, true, false]);
  });

  it('forgets full buckets when it tracks too many keys', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 1, now: c.now, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) buckets.take(k);
    c.advance(5000);
    buckets.take('d');
    expect(buckets.size).toBe(1);
  });

  it('never tracks more than maxKeys, even when every bucket is busy', () => {
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 0.001, now: clock().now, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBeLessThanOrEqual(100);
    expect(buckets.take('k999')).toEqual({ allowed: true });
    expect(buckets.take('k999').allowed).toBe(false);
  });
});

/**
 * Token buckets per key, in memory: `capacity` requests at once, refilled at `refillPerSecond`.
 * A bucket that has refilled completely is forgotten, so idle keys cost nothing.
 */
export interface TokenBucketOptions {
  capacity: number;
  refillPerSecond: number;
  now?: () => number;
  /** Past this many tracked keys, full buckets are swept out before a new one is added. */
  maxKeys?: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: TokenBucketOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  private level(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.options.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.options.refillPerSecond);
  }

  /** Takes one token for `key`, or says how many seconds until one is back. */
  take(key: string): TakeResult {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      bucket = { tokens: this.options.capacity, at: now };
      this.buckets.set(key, bucket);
    }
    const tokens = this.level(bucket, now);
    if (tokens < 1) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.options.refillPerSecond)) };
    }
    bucket.tokens = tokens - 1;
    bucket.at = now;
    return { allowed: true };
  }

  /** Drops full buckets; if every tracked key is still busy, the oldest go (memory stays bounded under a flood of keys). */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.level(bucket, now) >= this.options.capacity) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

import type { Knex } from 'knex';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../logger';

/** The table of migration 010: one row per limited key, shared by every API process. */
export const RATE_LIMIT_TABLE = 'api_rate_limits';

/** A fixed window: `points` requests per key per `windowSeconds`, the window starting at the key's first request. */
export interface WindowLimit {
  points: number;
  windowSeconds: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: TakeResult = { allowed: true };

/**
 * A burst and a sustained rate as one window with the same burst and, over time, the same rate: `burst` requests
 * per `burst ÷ rate` seconds (rounded up to whole seconds, so never faster than the rate). A rate above the burst
 * gets a 1-second window of `rate` requests.
 */
export function windowFor(burst: number, perSecond: number): WindowLimit {
  if (burst < perSecond) return { points: Math.floor(perSecond), windowSeconds: 1 };
  return { points: burst, windowSeconds: Math.max(1, Math.ceil(burst / perSecond)) };
}

/** `Retry-After` for a refusal: whole seconds until the window ends, at least 1. */
export function retryAfterSeconds(msBeforeNext: number): number {
  return Math.max(1, Math.ceil(msBeforeNext / 1000));
}

/** How often, at most, one limit logs that PostgreSQL did not answer. */
const FALLBACK_WARNING_INTERVAL_MS = 60_000;

/**
 * One limit counted in PostgreSQL (rate-limiter-flexible's RateLimiterPostgres on the API's knex pool): one upsert
 * per request, so every API process draws on the same count. A key found over its limit is also remembered in this
 * process until its window ends (`inMemoryBlockOnConsumed`), so a client hammering a spent key costs no query.
 * If PostgreSQL does not answer, the limit is counted in this process instead (as before limits were shared) and a
 * warning says so; the request then meets the same outage in its own queries.
 */
export class SharedLimit {
  private storeClient: RateLimiterPostgres | undefined;
  private readonly fallback: RateLimiterMemory;
  private lastWarningAt = -Infinity;

  constructor(private readonly o: { name: string; limit: WindowLimit; db: Knex; logger: Logger }) {
    this.fallback = new RateLimiterMemory(this.common);
  }

  private get common() {
    return { keyPrefix: this.o.name, points: this.o.limit.points, duration: this.o.limit.windowSeconds };
  }

  /** Made at the first request: building the app (e.g. for the OpenAPI document, offline) touches no database. */
  private get store(): RateLimiterPostgres {
    const o = this.o;
    return (this.storeClient ??= new RateLimiterPostgres({
      ...this.common,
      storeClient: o.db,
      storeType: 'knex',
      tableName: RATE_LIMIT_TABLE,
      // Migration 010 owns the table: the library must not create it at run time.
      tableCreated: true,
      // The request that spends the last point blocks the key here until the window ends: later ones are refused
      // without a query. Exact with a fixed window, which cannot reopen before its end.
      inMemoryBlockOnConsumed: o.limit.points,
    }));
  }

  /** Counts one request for `key`; says when to retry if the key has spent its window. */
  async take(key: string): Promise<TakeResult> {
    try {
      await this.store.consume(key);
      return ALLOWED;
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: retryAfterSeconds(err.msBeforeNext) };
      this.warnFallback(err as Error);
    }
    try {
      await this.fallback.consume(key);
      return ALLOWED;
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: retryAfterSeconds(err.msBeforeNext) };
      throw err;
    }
  }

  private warnFallback(err: Error): void {
    const now = Date.now();
    if (now - this.lastWarningAt < FALLBACK_WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    this.o.logger.warn(
      { limit: this.o.name, err: err?.message ?? String(err) },
      'rate limit: PostgreSQL did not answer; counting in this process until it does (the limit is per process meanwhile)',
    );
  }
}

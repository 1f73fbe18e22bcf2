/**
 * Deliveries that wait on our own infrastructure rather than on their schedule (issue 18: every accepted delivery
 * ends, or shows why it waits). A delivery is stalled while its attempt keeps failing on PostgreSQL or Temporal
 * (the attempt is retried until they are back), or while the outbox cannot start it because Temporal is unreachable.
 * The reasons are short classes, never raw messages: they label a metric and the page words them.
 */
export const STALL_REASONS = ['database_unavailable', 'database_error', 'temporal_unavailable', 'unknown'] as const;
export type StallReason = (typeof STALL_REASONS)[number];

/** PostgreSQL's five-character error code (SQLSTATE), or null when the error did not come from the server. */
export function sqlStateOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

// SQLSTATE classes of a server that cannot serve now: connection exception, insufficient resources (too many
// connections, disk full), operator intervention (shutting down, starting up, statement cancelled), system error.
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58']);
// Socket-level failures on the way to PostgreSQL (or anything else we depend on).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Why an attempt that failed with this (retryable) error cannot go on: which part of ours is down or failing.
 * Temporal's client errors (ServiceError, a gRPC status) say Temporal; PostgreSQL's server errors say the database
 * (unavailable or erring by their SQLSTATE class); lost or refused connections and the pool's time-out say the
 * database is unavailable (PostgreSQL is what the attempt talks to, besides Temporal and the receiver, whose
 * failures are outcomes, not errors).
 */
export function stallReasonOf(err: unknown): StallReason {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return 'unknown';
  if (e.name === 'ServiceError' || e.name === 'GrpcError' || (typeof e.code === 'number' && 'details' in e)) return 'temporal_unavailable';
  const sqlState = sqlStateOf(err);
  if (sqlState) return UNAVAILABLE_SQLSTATE_CLASSES.has(sqlState.slice(0, 2)) ? 'database_unavailable' : 'database_error';
  if (e.name === 'KnexTimeoutError' || (typeof e.code === 'string' && NETWORK_CODES.has(e.code))) return 'database_unavailable';
  if (typeof e.message === 'string' && /^Connection terminated|connection (timeout|terminated)|Client has encountered a connection error/i.test(e.message)) return 'database_unavailable';
  return 'unknown';
}

/**
 * Whether an error (or one it wraps: `cause`, an AggregateError's `errors`) says the database cannot be reached or is
 * not serving, by the same classes as a stall. The API answers those 503 with Retry-After instead of 500.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 5 || !err || typeof err !== 'object') return false;
  if (stallReasonOf(err) === 'database_unavailable') return true;
  const { cause, errors } = err as { cause?: unknown; errors?: unknown };
  return isDatabaseUnavailable(cause, depth + 1) || (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1)));
}

interface AttemptStall {
  reason: StallReason;
  since: number;
  seenAt: number;
}

/**
 * An entry not refreshed for this long is forgotten: a stalled attempt fails again at least every 1 min 20 s (the
 * retry policy's 1-minute ceiling plus its 20 s time-out), so an older one belongs to an attempt this process no
 * longer runs (its workflow moved to another worker).
 */
export const STALL_MEMORY_MS = 150_000;

/**
 * What this process knows to be stalled right now, by reason: kept in memory, so it holds when PostgreSQL is the
 * part that is down and nothing can be written (the `ckw_deliveries_stalled` gauge reads it). Each worker knows its
 * own attempts and the deliveries of the events its outbox failed to start (claims never overlap between workers),
 * so the sum over processes counts each stalled delivery once.
 */
export class StalledDeliveries {
  private readonly attempts = new Map<string, AttemptStall>();
  private undispatched: { count: number; since: number } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** An attempt of this delivery failed again on our infrastructure. */
  mark(deliveryId: string, reason: StallReason, since: number): void {
    const earlier = this.attempts.get(deliveryId);
    this.attempts.set(deliveryId, { reason, since: earlier?.since ?? since, seenAt: this.now() });
  }

  /** Its attempt ended (or it is no longer this process's to run). */
  clear(deliveryId: string): boolean {
    return this.attempts.delete(deliveryId);
  }

  has(deliveryId: string): boolean {
    return this.attempts.has(deliveryId);
  }

  /** The outbox could not start `count` deliveries (Temporal unreachable); 0 once it can again. */
  setUndispatched(count: number): void {
    this.undispatched = count > 0 ? { count, since: this.undispatched?.since ?? this.now() } : null;
  }

  /** Stalled deliveries by reason, every reason present (0 when none). */
  countsByReason(): Record<StallReason, number> {
    const counts = Object.fromEntries(STALL_REASONS.map((r) => [r, 0])) as Record<StallReason, number>;
    const now = this.now();
    for (const [id, stall] of this.attempts) {
      if (now - stall.seenAt > STALL_MEMORY_MS) this.attempts.delete(id);
      else counts[stall.reason]++;
    }
    if (this.undispatched) counts.temporal_unavailable += this.undispatched.count;
    return counts;
  }
}

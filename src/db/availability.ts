/**
 * Whether an error says the database could not be reached or is not serving (down, restarting, shutting down,
 * a pool that found no connection in time) rather than that a query was wrong. The API answers those 503 with
 * Retry-After — the client should try again — instead of 500.
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
// SQLSTATE class 08 (connection exception) and 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123])$/;

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
    if (e.name === 'KnexTimeoutError') return true; // no connection from the pool in time
    if (typeof e.message === 'string' && /^Connection terminated( unexpectedly)?$/.test(e.message)) return true;
    // Node's AggregateError for a refused connection to every address of a host name.
    if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}

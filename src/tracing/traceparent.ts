/**
 * The W3C Trace Context `traceparent` (version 00), as the outbox stores it on the event: the ingest span's
 * context, continued by the worker that starts the event's deliveries. Written and read here rather than through
 * the global propagator, which OTEL_PROPAGATORS may set to another format.
 */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** W3C trace flags: bit 0 is "sampled". */
  traceFlags: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = /^0{32}$/;
const INVALID_SPAN_ID = /^0{16}$/;

export function formatTraceparent({ traceId, spanId, traceFlags }: TraceParent): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The context a stored `traceparent` names, or null when it is not a valid version-00 one. */
export function parseTraceparent(value: string): TraceParent | null {
  const m = TRACEPARENT.exec(value);
  if (!m || INVALID_TRACE_ID.test(m[1]) || INVALID_SPAN_ID.test(m[2])) return null;
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) };
}

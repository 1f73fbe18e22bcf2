/** The tracing's surface, as its callers see it (src/tracing/index.ts); types only. */
import type { RequestHandler } from 'express';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';

/** What an outgoing webhook request's span records: never a header, the body, or a query string. */
export interface OutgoingRequest {
  /** The target, as the Delivery Log may show it (redactUrl): its query string and credentials are dropped here. */
  url: string;
  destination: string;
  deliveryId: string;
  webhookId: string;
}

export interface OutgoingResult {
  status: number | null;
  durationMs: number;
  succeeded: boolean;
  error: string | null;
}

export interface Tracing {
  /** The W3C `traceparent` of the active span (sampled or not), to carry a trace through the outbox. */
  currentTraceparent(): string | null;
  /** The id of the active trace when it is sampled (exported): what the Delivery Log and the logs show. */
  currentTraceId(): string | null;
  /** Runs `fn` as a continuation of the trace a stored `traceparent` names (a fresh one when null). */
  withTraceparent<T>(traceparent: string | null | undefined, fn: () => T): T;
  /** Adds attributes to the active span (the event id and type on the ingest request's). */
  setAttributes(attributes: Record<string, string | number | boolean>): void;
  /** Express middleware: a SERVER span around each `/v1/` request. */
  requestSpans(): RequestHandler;
  /** Runs an outgoing webhook request in a CLIENT span; nothing is added to the request itself. */
  outgoingRequest<T extends OutgoingResult>(request: OutgoingRequest, send: () => Promise<T>): Promise<T>;
  /** The pino mixin: `trace_id` and `span_id` of the active sampled span. */
  logFields(): Record<string, string>;
  /** Where a failed export is reported (the SDK's diagnostics at WARN): the process's log, once it exists. */
  logErrorsTo(logger: { warn(fields: object, message: string): void }): void;
  /** Temporal client interceptors: a span per start, signal, query…, and the context in the workflow's headers. */
  readonly clientInterceptors: ClientInterceptors;
  /** The worker's activity interceptors and the sink the workflow interceptors export their spans through. */
  readonly workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops exporting (at shutdown). */
  shutdown(): Promise<void>;
}

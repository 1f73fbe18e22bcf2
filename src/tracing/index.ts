/**
 * OpenTelemetry traces, one per event: the ingest request, each delivery workflow's start, the workflow, each attempt
 * and its HTTP request (docs/operations.md, "Tracing"). Off unless an OTLP endpoint is configured, and then free:
 * this module imports no OpenTelemetry code at run time, `startTracing` returns undefined, and every caller holds an
 * optional `Tracing` that it checks once (no SDK, no interceptors, no log mixin, the untraced workflow bundle).
 */
import type { TracingConfig } from '../config';
import type { Tracing } from './types';

export type { OutgoingRequest, OutgoingResult, Tracing } from './types';

/**
 * The SDK, the OTLP exporter and Temporal's interceptors when tracing is configured; undefined (and nothing loaded)
 * otherwise. Once per process, before the logger and the Temporal client are made.
 */
export function startTracing(config: TracingConfig): Tracing | undefined {
  if (!config.enabled) return undefined;
  // Required here, not imported at the top: with tracing off, no OpenTelemetry module is ever loaded.
  const { createTracing } = require('./otel') as typeof import('./otel');
  return createTracing(config);
}

/**
 * The workflow interceptor module of `@temporalio/interceptors-opentelemetry`, bundled into the traced workflow
 * bundle only: a worker with tracing off runs workflow code without it. Resolved, never loaded, here.
 */
export const WORKFLOW_TRACING_INTERCEPTORS = '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';

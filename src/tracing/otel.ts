/**
 * Tracing on: the OpenTelemetry Node SDK with an OTLP/HTTP exporter, and Temporal's interceptors
 * (`@temporalio/interceptors-opentelemetry`). Loaded by `startTracing` only when an endpoint is configured.
 */
import type { RequestHandler } from 'express';
import { context, diag, DiagLogLevel, isSpanContextValid, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { SerializableSpan } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { TracingConfig } from '../config';
import type { OutgoingRequest, OutgoingResult, Tracing } from './types';
import { outgoingRequestAttributes, outgoingResultAttributes } from './attributes';
import { formatTraceparent, parseTraceparent } from './traceparent';

const TRACER_NAME = 'cloudkeep-webhooks';

/** The exporter for OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, to the configured URL; headers and timeout from the environment. */
export function otlpExporter({ protocol, endpoint }: Pick<TracingConfig, 'protocol' | 'endpoint'>): SpanExporter {
  const options = endpoint ? { url: endpoint } : {};
  return protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
}

/** What a failed export says, once it happens: the SDK's own diagnostics at WARN, to our log once it exists. */
let report: ((message: string) => void) | null = null;

export function createTracing(config: TracingConfig): Tracing {
  // Precedence, lowest first: the SDK's defaults, ours, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': config.serviceName, 'service.version': require('../../package.json').version }))
    .merge(detectResourcesSync({ detectors: [envDetectorSync] }));
  const processor = new BatchSpanProcessor(otlpExporter(config));
  // The sampler comes from OTEL_TRACES_SAMPLER (default: parent-based, always on).
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // The global tracer provider, the AsyncLocalStorage context manager and the propagator (OTEL_PROPAGATORS) that
  // Temporal's interceptors write into workflow and activity headers.
  provider.register();
  diag.setLogger(
    { error: (m) => report?.(m), warn: (m) => report?.(m), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const tracer = trace.getTracer(TRACER_NAME);

  const activeSampled = () => {
    const span = trace.getSpanContext(context.active());
    return span && isSpanContextValid(span) && span.traceFlags & TraceFlags.SAMPLED ? span : undefined;
  };

  return {
    currentTraceparent() {
      const span = trace.getSpanContext(context.active());
      return span && isSpanContextValid(span) ? formatTraceparent(span) : null;
    },

    currentTraceId() {
      return activeSampled()?.traceId ?? null;
    },

    withTraceparent(traceparent, fn) {
      const parent = traceparent ? parseTraceparent(traceparent) : null;
      return context.with(parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT, fn);
    },

    setAttributes(attributes) {
      trace.getSpan(context.active())?.setAttributes(attributes);
    },

    requestSpans(): RequestHandler {
      return (req, res, next) => {
        if (!req.path.startsWith('/v1/')) return next();
        // Every API request starts a trace of its own: an ingested event's trace begins here. A caller's trace
        // context is not continued (the API is public, and one event is one trace): it is linked.
        const callerContext = trace.getSpanContext(parseCaller(req.headers.traceparent));
        // Named `METHOD route` once routed (the path would make a name per delivery id).
        const span: Span = tracer.startSpan(
          req.method,
          {
            kind: SpanKind.SERVER,
            root: true,
            links: callerContext ? [{ context: callerContext }] : [],
            attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol },
          },
          ROOT_CONTEXT,
        );
        res.once('finish', () => {
          const route: string | undefined = req.route?.path;
          if (route) span.updateName(`${req.method} ${route}`).setAttribute('http.route', route);
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setAttribute('error.type', String(res.statusCode)).setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        });
        res.once('close', () => span.isRecording() && span.end());
        const active = trace.setSpan(ROOT_CONTEXT, span);
        context.bind(active, req);
        context.bind(active, res);
        context.with(active, next);
      };
    },

    async outgoingRequest<T extends OutgoingResult>(request: OutgoingRequest, send: () => Promise<T>): Promise<T> {
      // A child of the attempt's span, never made active: nothing the request carries comes from it.
      const span = tracer.startSpan('POST', { kind: SpanKind.CLIENT, attributes: outgoingRequestAttributes(request) });
      try {
        const result = await send();
        span.setAttributes(outgoingResultAttributes(result));
        if (!result.succeeded) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? undefined });
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },

    logFields(): Record<string, string> {
      const span = activeSampled();
      return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
    },

    logErrorsTo(logger) {
      // Outside any trace: the export runs on a timer that may have been set inside one.
      report = (message) => context.with(ROOT_CONTEXT, () => logger.warn({ component: 'OpenTelemetry' }, `tracing: ${diagnosticText(message)}`));
    },

    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },

    workerOptions: {
      interceptors: {
        activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      // The workflow interceptors (in the traced bundle) make their spans inside the sandbox and hand them out here.
      sinks: { exporter: workflowSpanSink(processor, resource) },
    },

    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Temporal's sink for the workflow spans, which stamps every span with the whole WorkflowInfo (memo, search
 * attributes, last failure, …): given only the workflow's identity instead.
 */
function workflowSpanSink(processor: SpanProcessor, resource: Resource) {
  const sink = makeWorkflowExporter(processor, resource);
  return {
    export: {
      fn: (info: WorkflowInfo, spans: SerializableSpan[]) =>
        sink.export.fn({ workflowId: info.workflowId, runId: info.runId, workflowType: info.workflowType, taskQueue: info.taskQueue, namespace: info.namespace } as WorkflowInfo, spans),
    },
  };
}

/** The SDK reports a failed export as the error serialised to JSON, stack included: its message is what says why. */
export function diagnosticText(message: string): string {
  try {
    const parsed = JSON.parse(message);
    if (parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: as it came
  }
  return message.split('\n')[0];
}

/** A caller's `traceparent` header as a context, to link to. */
function parseCaller(header: string | string[] | undefined) {
  const parent = typeof header === 'string' ? parseTraceparent(header.trim().toLowerCase()) : null;
  return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
}

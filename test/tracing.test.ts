/**
 * OpenTelemetry traces end to end, against a real OTLP/HTTP receiver on loopback: one trace per event, from the
 * ingest request through the outbox, the workflow start, the workflow, each attempt and its HTTP request; the trace
 * id in the JSON log lines and in the Delivery Log; nothing added to the request the receiver gets.
 */
import { Writable } from 'node:stream';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startTracing, Tracing } from '../src/tracing';
import { diagnosticText, otlpExporter } from '../src/tracing/otel';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { deliveryWorkflowId } from '../src/workflows/messages';
import { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';

const SERVER = 2;
const CLIENT = 3;

let otlp: OtlpReceiver;
let tracing: Tracing;
let stack: Stack;
let org: Org;
let receiver: Receiver;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  otlp = await new OtlpReceiver().start();
  const config = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'ckw-tracing-test' });
  tracing = startTracing(config.tracing)!;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  stack = await createStack({ tracing, logger: createLogger('debug', tracing, sink) });
  org = await stack.createOrg();
  // Pings are answered; the event fails once, then succeeds.
  let events = 0;
  receiver = await new Receiver((req) => (req.headers['x-cloudkeep-event'] === 'ping' ? { status: 200 } : ++events === 1 ? { status: 500, body: 'down' } : { status: 200 })).start();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
  await tracing?.shutdown();
  await otlp?.stop();
});

const only = (spans: ReceivedSpan[], what: string) => {
  expect(spans.map((s) => s.name)).toHaveLength(1);
  if (spans.length !== 1) throw new Error(`expected one ${what}`);
  return spans[0];
};
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan, name: string) => spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name);

it('follows an event that fails once and then succeeds in one trace, from ingest to each HTTP request', async () => {
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/hook?token=in-the-query`, events: ['secret.created'] });
  expect(created.status).toBe(201);
  const secret: string = created.body.secret;
  await waitFor(async () => (await stack.db('webhooks').where({ id: created.body.id }).first()).status === 'active', 'the ping to make the webhook active');

  // The vault service sends its own trace context: linked, not continued (the event's trace starts at ingest).
  const caller = { traceId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', spanId: '0123456789abcdef' };
  const ingest = await fetch(`${stack.apiUrl}/v1/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${org.serviceToken}`, 'Content-Type': 'application/json', traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
    body: JSON.stringify({ event: 'secret.created', data: secretCreatedData }),
  });
  expect(ingest.status).toBe(202);
  const eventId: string = ((await ingest.json()) as { id: string }).id;
  const { id: deliveryId } = await waitFor(() => stack.db('deliveries').where({ event_id: eventId }).first(), 'the delivery row');
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'retrying', 'the first attempt to fail');
  expect((await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey)).status).toBe(202);
  await waitFor(async () => (await stack.db('deliveries').where({ id: deliveryId }).first()).status === 'succeeded', 'the redelivery to succeed');

  // The event's row carries the ingest span's context, which the worker's dispatcher continued.
  const { traceparent } = await stack.db('events').where({ organization_id: org.id, id: eventId }).first();
  expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const traceId = traceparent.split('-')[1];

  // The workflow's span ends with the workflow; the batch goes out on flush. Then all of it must be in the event's trace.
  await waitFor(async () => {
    await tracing.flush();
    const ran = otlp.spans.some((s) => s.name === 'RunWorkflow:deliveryWorkflow' && s.attributes.workflowId === deliveryWorkflowId(deliveryId));
    return ran && otlp.spans.filter((s) => s.name === 'POST' && s.attributes['cloudkeep.delivery.id'] === deliveryId).length === 2;
  }, 'the workflow span and both request spans at the OTLP receiver');
  const spans = otlp.inTrace(traceId);
  expect(otlp.exports.every((e) => e.path === '/v1/traces' && e.contentType === 'application/json')).toBe(true);

  // The ingest request is the root.
  const root = only(spans.filter((s) => !s.parentSpanId), 'root');
  expect(root).toMatchObject({ name: 'POST /v1/events', kind: SERVER, serviceName: 'ckw-tracing-test' });
  expect(root.spanId).toBe(traceparent.split('-')[2]);
  expect(traceId).not.toBe(caller.traceId);
  expect(root.links).toEqual([caller]);
  expect(root.attributes).toMatchObject({ 'http.route': '/v1/events', 'http.response.status_code': 202, 'cloudkeep.event.id': eventId, 'cloudkeep.event.type': 'secret.created', 'cloudkeep.event.deliveries': 1 });

  // ingest → workflow start (the outbox dispatcher) → the workflow → two attempts → one HTTP request each.
  const start = only(childrenOf(spans, root, 'StartWorkflow:deliveryWorkflow'), 'workflow start');
  expect(start.attributes.temporalWorkflowId).toBe(deliveryWorkflowId(deliveryId));
  const workflow = only(childrenOf(spans, start, 'RunWorkflow:deliveryWorkflow'), 'workflow run');
  // Workflow spans name the workflow, and nothing else of its info (memo, search attributes, failures).
  expect(workflow.attributes).toEqual({ workflowId: deliveryWorkflowId(deliveryId), runId: start.attributes.run_id, workflowType: 'deliveryWorkflow', taskQueue: stack.taskQueue, namespace: 'default' });
  const scheduled = childrenOf(spans, workflow, 'StartActivity:attemptDelivery');
  expect(scheduled).toHaveLength(2);
  const attempts = scheduled.map((s) => only(childrenOf(spans, s, 'RunActivity:attemptDelivery'), 'attempt run'));
  const requests = attempts.map((a) => only(childrenOf(spans, a, 'POST'), 'HTTP request')).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
  for (const r of requests) {
    expect(r.kind).toBe(CLIENT);
    expect(r.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': `${receiver.url}/hook`,
      'server.address': '127.0.0.1',
      'server.port': receiver.port,
      'cloudkeep.delivery.id': deliveryId,
      'cloudkeep.webhook.id': created.body.id,
    });
    expect(r.attributes['cloudkeep.http.duration_ms']).toEqual(expect.any(Number));
    expect(r.attributes['cloudkeep.http.duration_ms'] as number).toBeGreaterThanOrEqual(0);
  }
  expect(requests.map((r) => r.attributes['http.response.status_code'])).toEqual([500, 200]);
  expect(requests.map((r) => r.attributes['error.type'] ?? null)).toEqual(['500', null]);
  expect(spans.filter((s) => s.name === 'POST')).toHaveLength(2);

  // The redeliver request has a trace of its own, into which the workflow's signal handler is linked.
  const redeliver = only(otlp.spans.filter((s) => s.name === 'POST /v1/deliveries/:id/redeliver'), 'redeliver request');
  expect(redeliver.traceId).not.toBe(traceId);
  expect(otlp.inTrace(redeliver.traceId).map((s) => s.name)).toEqual(expect.arrayContaining(['SignalWithStartWorkflow:deliveryWorkflow', 'HandleSignal:redeliver']));

  // No secret, no signature, no query string, no body in any span sent.
  const events = receiver.requests.filter((r) => r.headers['x-cloudkeep-event'] === 'secret.created');
  expect(events).toHaveLength(2);
  const exported = otlp.bodies.join('\n');
  for (const value of [secret, 'in-the-query', ...events.map((r) => r.headers['x-cloudkeep-signature-256'] as string), events[0].body]) {
    expect(value).toBeTruthy();
    expect(exported).not.toContain(value);
  }
  // Nothing was added to the request the endpoint got.
  for (const r of events) expect(Object.keys(r.headers).filter((h) => /trace|baggage|tracer/i.test(h))).toEqual([]);

  // The Delivery Log's attempts carry the trace id.
  const detail = await stack.api('GET', `/v1/deliveries/${deliveryId}`, org.apiKey);
  expect(detail.status).toBe(200);
  expect(detail.body.attempts.map((a: { traceId: string | null }) => a.traceId)).toEqual([traceId, traceId]);

  // And so do the JSON log lines written inside the trace (the attempts' lines at debug level).
  const attemptLines = logLines.filter((l) => l.msg === 'delivery attempt' && l.deliveryId === deliveryId);
  expect(attemptLines).toHaveLength(2);
  for (const line of attemptLines) expect(line).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  expect(new Set(attemptLines.map((l) => l.span_id))).toEqual(new Set(attempts.map((a) => a.spanId)));

  // Tracing can be turned off for workflows it saw start: the traced run replays against the untraced bundle.
  const history = await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).fetchHistory();
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never });
  await expect(Worker.runReplayHistory({ workflowBundle: { code }, replayName: 'ckw-untraced-replay' }, history)).resolves.toBeUndefined();
});

it('logs a failed export in one line, what the SDK reports as a serialised error reduced to its message', () => {
  const serialised = JSON.stringify({ stack: 'Error: connect ECONNREFUSED 127.0.0.1:9\n    at TCPConnectWrap.afterConnect', message: 'connect ECONNREFUSED 127.0.0.1:9' });
  expect(diagnosticText(serialised)).toBe('connect ECONNREFUSED 127.0.0.1:9');
  expect(diagnosticText('Dropped 10 spans because maxQueueSize reached\nmore')).toBe('Dropped 10 spans because maxQueueSize reached');
});

it('sends OTLP/HTTP protobuf unless http/json is asked for', () => {
  expect(otlpExporter({ protocol: 'http/protobuf', endpoint: 'http://127.0.0.1:4318/v1/traces' })).toBeInstanceOf(OtlpProtobufExporter);
  expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
    enabled: true,
    endpoint: 'http://collector:4318/v1/traces',
    protocol: 'http/protobuf',
    serviceName: 'cloudkeep-webhooks',
  });
  expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom' }).tracing.endpoint).toBe('http://collector:4318/custom');
  expect(loadConfig({}).tracing.enabled).toBe(false);
  expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
  expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
});

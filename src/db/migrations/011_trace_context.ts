import type { Knex } from 'knex';

/**
 * Issue 20 item 3: OpenTelemetry traces, one per event (src/tracing).
 * - events.traceparent: the W3C traceparent of the ingest request's span, stored with the event when tracing is on,
 *   so the worker that starts the event's deliveries (the outbox) continues the same trace.
 * - delivery_attempts.trace_id: the trace an attempt ran in (when it was sampled), shown in the Delivery Log.
 * Both nullable without a default: adding them rewrites no table, and rows written with tracing off keep null.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('events', (t) => t.text('traceparent'));
  await knex.schema.alterTable('delivery_attempts', (t) => t.text('trace_id'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('delivery_attempts', (t) => t.dropColumn('trace_id'));
  await knex.schema.alterTable('events', (t) => t.dropColumn('traceparent'));
}

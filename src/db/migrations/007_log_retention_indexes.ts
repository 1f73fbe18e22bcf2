import type { Knex } from 'knex';

/**
 * Indexes for Delivery Log retention (checked with EXPLAIN ANALYZE at 1M deliveries: docs/operations.md, "Data").
 * - deliveries(updated_at) over finished deliveries only: the daily prune finds what it may delete by range.
 *   Not on created_at: the planner would then walk that index for the log's `ORDER BY created_at` instead of
 *   (webhook_id, created_at), and filter out every other webhook's rows.
 * - deliveries(organization_id, event_id): the prune's "event still referenced?" check, the foreign key's
 *   cascade from events, and an event's deliveries in ingest and the sweep.
 * - events(received_at): old events by range.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX deliveries_prunable_index ON deliveries (updated_at) WHERE status IN ('succeeded', 'failed', 'cancelled')`);
  await knex.schema.alterTable('deliveries', (t) => t.index(['organization_id', 'event_id'], 'deliveries_organization_id_event_id_index'));
  await knex.schema.alterTable('events', (t) => t.index(['received_at'], 'events_received_at_index'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('events', (t) => t.dropIndex(['received_at'], 'events_received_at_index'));
  await knex.schema.alterTable('deliveries', (t) => t.dropIndex(['organization_id', 'event_id'], 'deliveries_organization_id_event_id_index'));
  await knex.raw('DROP INDEX deliveries_prunable_index');
}

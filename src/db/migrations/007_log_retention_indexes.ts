import type { Knex } from 'knex';

/**
 * Indexes for Delivery Log retention (checked with EXPLAIN ANALYZE at 1M deliveries: docs/operations.md, "Data").
 * - deliveries(completed_at): the daily prune finds deliveries finished before the cutoff by range. Not on
 *   created_at: the planner then walked that index for the log's `ORDER BY created_at` instead of
 *   (webhook_id, created_at), filtering out every other webhook's rows. Not partial on status: an index
 *   over status would make every status change a non-HOT update.
 * - deliveries(organization_id, event_id): the prune's "event still referenced?" check, the foreign key's
 *   cascade from events, and an event's deliveries in ingest and the sweep.
 * - events(received_at): old events by range.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.index(['completed_at'], 'deliveries_completed_at_index');
    t.index(['organization_id', 'event_id'], 'deliveries_organization_id_event_id_index');
  });
  await knex.schema.alterTable('events', (t) => t.index(['received_at'], 'events_received_at_index'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('events', (t) => t.dropIndex(['received_at'], 'events_received_at_index'));
  await knex.schema.alterTable('deliveries', (t) => {
    t.dropIndex(['organization_id', 'event_id'], 'deliveries_organization_id_event_id_index');
    t.dropIndex(['completed_at'], 'deliveries_completed_at_index');
  });
}

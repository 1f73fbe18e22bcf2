import type { Knex } from 'knex';

/**
 * Issue 18 item 2: a delivery that waits on our own infrastructure shows why.
 * - deliveries.stalled_reason: a short class (src/domain/stalls.ts: database_unavailable, database_error,
 *   temporal_unavailable, unknown) while its attempt keeps failing on PostgreSQL or Temporal, or while the outbox
 *   cannot start it; cleared by the statement that records its attempt (or cancels it, or paces it).
 * - deliveries.stalled_since: when that began.
 * Nullable without a default, so adding them rewrites nothing; no index: they are written and cleared by id, and
 * the metric is counted in the workers' memory, not by a query.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.text('stalled_reason');
    t.timestamp('stalled_since', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => {
    t.dropColumn('stalled_reason');
    t.dropColumn('stalled_since');
  });
}

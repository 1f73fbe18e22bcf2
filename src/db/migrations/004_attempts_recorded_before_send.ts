import type { Knex } from 'knex';

/**
 * An attempt is written before its request goes out and completed after, so an attempt cut by a crash shows in
 * the Delivery Log instead of vanishing. `succeeded` and `duration_ms` are null while it is in flight; `step_key`
 * groups the tries of one workflow step (the first keeps the step's idempotency key, re-sends get `key#2`, …).
 * The partial index serves the dispatch sweep, which now runs every few seconds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('delivery_attempts', (t) => {
    t.text('step_key');
    t.setNullable('succeeded');
    t.setNullable('duration_ms');
  });
  await knex.raw('UPDATE delivery_attempts SET step_key = idempotency_key');
  await knex.schema.alterTable('delivery_attempts', (t) => {
    t.dropNullable('step_key');
    t.index(['step_key', 'number']);
  });
  await knex.raw('CREATE INDEX events_undispatched_idx ON events (received_at) WHERE dispatched_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS events_undispatched_idx');
  await knex.raw('DELETE FROM delivery_attempts WHERE succeeded IS NULL');
  await knex.schema.alterTable('delivery_attempts', (t) => {
    t.dropIndex(['step_key', 'number']);
    t.dropColumn('step_key');
    t.dropNullable('succeeded');
    t.dropNullable('duration_ms');
  });
}

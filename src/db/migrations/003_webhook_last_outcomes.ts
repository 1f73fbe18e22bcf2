import type { Knex } from 'knex';

/**
 * The webhook's last failed and last successful attempt (workflow time). Successes matter to the health rule
 * only near a failure, so the attempt activity uses these to skip signals that could change nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.timestamp('last_failure_at', { useTz: true });
    t.timestamp('last_success_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('last_failure_at');
    t.dropColumn('last_success_at');
  });
}

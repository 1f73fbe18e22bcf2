import type { Knex } from 'knex';

/**
 * "Connect to Slack": one row per OAuth authorisation in flight. The signed `state` names a row, so a
 * state is bound to its organization and the chosen events, expires, and is used at most once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('slack_oauth_requests', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.jsonb('events').notNullable();
    t.text('description');
    t.jsonb('vault_ids');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    // The id of the webhook the callback created: which connection a state became.
    t.text('webhook_id');
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('slack_oauth_requests');
}

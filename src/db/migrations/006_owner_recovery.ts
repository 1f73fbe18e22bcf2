import type { Knex } from 'knex';

/**
 * Issue 11 (owner features): the Standard Webhooks opt-in, the failure warning's once-per-streak mark, the
 * streak start kept with a disable (what re-enabling offers to recover), and the recoveries started by owners.
 * `deliveries.status` is free text (no CHECK), so `skipped` needs no schema change.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.boolean('standard_webhooks').notNullable().defaultTo(false);
    // The failingSince of the streak whose warning email went out: a retried activity sends it once.
    t.text('warning_email_sent_for');
    // When the streak that disabled the webhook began: re-enabling offers to recover from then on.
    t.timestamp('failing_since', { useTz: true });
  });

  await knex.schema.createTable('webhook_recoveries', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable();
    t.text('webhook_id').notNullable().references('webhooks.id').onDelete('CASCADE');
    t.timestamp('since', { useTz: true }).notNullable();
    // Deliveries created after this are not part of the recovery: it does not chase new failures.
    t.timestamp('until', { useTz: true }).notNullable();
    t.jsonb('statuses').notNullable();
    t.integer('total').notNullable();
    t.integer('started').notNullable().defaultTo(0);
    t.text('status').notNullable().defaultTo('running');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.index(['webhook_id', 'created_at']);
  });

  // A recovery pages through a webhook's failed or skipped deliveries, oldest first.
  await knex.schema.alterTable('deliveries', (t) => {
    t.index(['webhook_id', 'status', 'created_at'], 'deliveries_webhook_status_created_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => t.dropIndex(['webhook_id', 'status', 'created_at'], 'deliveries_webhook_status_created_idx'));
  await knex.schema.dropTableIfExists('webhook_recoveries');
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('standard_webhooks');
    t.dropColumn('warning_email_sent_for');
    t.dropColumn('failing_since');
  });
}

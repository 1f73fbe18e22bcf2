import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organizations', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('notification_email').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.enum('kind', ['admin', 'service'], { useNative: true, enumName: 'api_key_kind' }).notNullable();
    t.text('name').notNullable();
    // SHA-256 of the whole token: tokens are 32 random bytes, so a fast hash is enough.
    t.text('token_hash').notNullable().unique();
    t.text('token_prefix').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
  });

  await knex.schema.createTable('webhooks', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('destination').notNullable();
    t.text('display_url').notNullable();
    t.text('target_ciphertext').notNullable();
    t.text('secret_ciphertext').notNullable();
    t.jsonb('events').notNullable();
    t.jsonb('vault_ids');
    t.text('description');
    t.text('slack_channel');
    t.text('status').notNullable();
    t.text('status_reason');
    t.timestamp('status_changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('disabled_email_sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deleted_at', { useTz: true });
    t.index(['organization_id', 'created_at']);
  });

  await knex.schema.createTable('events', (t) => {
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('id').notNullable();
    t.text('type').notNullable();
    t.timestamp('timestamp', { useTz: true }).notNullable();
    // json, not jsonb: the producer's key order is kept, so every re-send is byte-identical.
    t.json('data').notNullable();
    t.integer('delivery_count').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Set once Temporal has the fan-out workflow; a null here after a crash is re-dispatched.
    t.timestamp('dispatched_at', { useTz: true });
    t.primary(['organization_id', 'id']);
  });

  await knex.schema.createTable('deliveries', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable();
    t.text('webhook_id').notNullable().references('webhooks.id').onDelete('CASCADE');
    t.text('event_id').notNullable();
    t.text('event_type').notNullable();
    t.text('status').notNullable();
    t.integer('attempt_count').notNullable().defaultTo(0);
    t.integer('last_response_status');
    t.text('last_error');
    t.timestamp('next_attempt_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.foreign(['organization_id', 'event_id']).references(['organization_id', 'id']).inTable('events').onDelete('CASCADE');
    t.unique(['webhook_id', 'event_id']);
    t.index(['webhook_id', 'created_at']);
  });

  await knex.schema.createTable('delivery_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.text('delivery_id').notNullable().references('deliveries.id').onDelete('CASCADE');
    t.integer('number').notNullable();
    // Workflow run and step: an activity retried after a crash finds its own record instead of adding one.
    t.text('idempotency_key').notNullable().unique();
    t.text('trigger').notNullable();
    t.timestamp('attempted_at', { useTz: true }).notNullable();
    t.text('request_url').notNullable();
    t.jsonb('request_headers').notNullable();
    t.text('request_body').notNullable();
    t.integer('response_status');
    t.text('response_body');
    t.integer('duration_ms').notNullable();
    t.text('error');
    t.boolean('succeeded').notNullable();
    t.integer('retry_after_ms');
    t.unique(['delivery_id', 'number']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['delivery_attempts', 'deliveries', 'events', 'webhooks', 'api_keys', 'organizations']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('DROP TYPE IF EXISTS api_key_kind');
}

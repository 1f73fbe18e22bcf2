import type { Knex } from 'knex';

/**
 * Fair dispatch (issue 17):
 * - an organization's share of the delivery task queue under load (Temporal fairness weight): 1 by default, more
 *   for a plan tier that buys it. Temporal clamps weights to [0.001, 1000]; so does the CHECK.
 * - how long a webhook's last attempt took: an endpoint that answers slowly gets its next attempts as regular
 *   activities, which hold no workflow-task slot while the request is out (src/activities/delivery.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.integer('last_duration_ms');
  });
  await knex.schema.alterTable('organizations', (t) => {
    t.double('fairness_weight').notNullable().defaultTo(1);
  });
  await knex.raw('ALTER TABLE organizations ADD CONSTRAINT organizations_fairness_weight_range CHECK (fairness_weight BETWEEN 0.001 AND 1000)');
  // The outbox the workers drain (eventsStore.dispatchCandidates): each organization's oldest undispatched events,
  // and pings (a person is waiting) ahead of everything.
  await knex.raw('CREATE INDEX events_outbox_idx ON events (organization_id, received_at) WHERE dispatched_at IS NULL AND delivery_count > 0');
  await knex.raw("CREATE INDEX events_outbox_pings_idx ON events (received_at) WHERE dispatched_at IS NULL AND delivery_count > 0 AND type = 'ping'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS events_outbox_pings_idx');
  await knex.raw('DROP INDEX IF EXISTS events_outbox_idx');
  await knex.schema.alterTable('webhooks', (t) => t.dropColumn('last_duration_ms'));
  await knex.schema.alterTable('organizations', (t) => t.dropColumn('fairness_weight'));
}

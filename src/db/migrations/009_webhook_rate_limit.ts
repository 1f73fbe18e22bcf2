import type { Knex } from 'knex';

/**
 * Issue 17 item 5: an optional delivery rate per webhook.
 * - webhooks.rate_limit: deliveries per second (fractional allowed, e.g. 0.5); null = unlimited.
 * - webhooks.next_send_at: the shared pacing reservation (GCRA): the earliest time the next delivery may go out.
 *   Every worker and process reserves its slot on this one row in one atomic UPDATE, so the rate holds across them.
 * - webhooks.send_gate_at: when the latest send was let go. Reserved again just before each request, so deliveries
 *   whose timers fired late all at once (a busy worker) are spread out again instead of going out together.
 * - deliveries.paced_until: set while a delivery waits for its reserved slot (then equal to next_attempt_at), so the
 *   Delivery Log can say "paced" rather than "retrying"; cleared when the attempt is made.
 * All four are nullable without a default: adding them rewrites no table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhooks', (t) => {
    t.double('rate_limit');
    t.timestamp('next_send_at', { useTz: true });
    t.timestamp('send_gate_at', { useTz: true });
  });
  await knex.schema.alterTable('deliveries', (t) => {
    t.timestamp('paced_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (t) => t.dropColumn('paced_until'));
  await knex.schema.alterTable('webhooks', (t) => {
    t.dropColumn('rate_limit');
    t.dropColumn('next_send_at');
    t.dropColumn('send_gate_at');
  });
}

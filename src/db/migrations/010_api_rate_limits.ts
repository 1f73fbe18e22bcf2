import type { Knex } from 'knex';

/**
 * Issue 19 item 2: the API's rate limits (admin, ingest, failed authentication) counted in PostgreSQL, so every API
 * process shares one count per key. The table is rate-limiter-flexible's RateLimiterPostgres layout, which it fills
 * with positional `INSERT … VALUES (key, points, expire)`: the column order is part of the contract.
 * - key: `<limit>:<key id or client address>`.
 * - points: requests counted in the current window.
 * - expire: when the window ends, in epoch milliseconds (the library's clock).
 * UNLOGGED: a counter is rewritten on every API request and is worth nothing after a crash, so it skips the WAL (a
 * crash or a fail-over to a standby resets the windows, letting each key start a fresh one). The library deletes rows
 * whose window ended an hour ago; `expire` has no index, so the per-request updates can stay heap-only (HOT).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE UNLOGGED TABLE api_rate_limits (
    key varchar(255) PRIMARY KEY,
    points integer NOT NULL DEFAULT 0,
    expire bigint
  )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_rate_limits');
}

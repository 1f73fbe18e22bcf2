import knexFactory, { Knex } from 'knex';
import * as initialSchema from './migrations/001_initial_schema';
import * as slackOAuth from './migrations/002_slack_oauth';
import * as webhookLastOutcomes from './migrations/003_webhook_last_outcomes';
import * as attemptsRecordedBeforeSend from './migrations/004_attempts_recorded_before_send';
import * as ownerRecovery from './migrations/006_owner_recovery';
import * as logRetentionIndexes from './migrations/007_log_retention_indexes';
import * as fairDispatch from './migrations/008_fair_dispatch';
import * as webhookRateLimit from './migrations/009_webhook_rate_limit';
import * as apiRateLimits from './migrations/010_api_rate_limits';
import * as traceContext from './migrations/011_trace_context';
import * as deliveryStalled from './migrations/012_delivery_stalled';

/** A connection or a transaction: every store takes either, so services decide the transaction. */
export type Db = Knex | Knex.Transaction;

// Migrations are listed here rather than found on disk, so tsx, Jest and a bundle all load them alike.
const migrations: Record<string, Knex.Migration> = {
  '001_initial_schema': initialSchema,
  '002_slack_oauth': slackOAuth,
  '003_webhook_last_outcomes': webhookLastOutcomes,
  '004_attempts_recorded_before_send': attemptsRecordedBeforeSend,
  '006_owner_recovery': ownerRecovery,
  '007_log_retention_indexes': logRetentionIndexes,
  '008_fair_dispatch': fairDispatch,
  '009_webhook_rate_limit': webhookRateLimit,
  '010_api_rate_limits': apiRateLimits,
  '011_trace_context': traceContext,
  '012_delivery_stalled': deliveryStalled,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

export function createDb(connectionString: string, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({ client: 'pg', connection: connectionString, pool });
}

/** Any fixed number: the session-level advisory lock every process takes to migrate (see migrateLatest). */
const MIGRATION_LOCK_KEY = 7_422_019;

/**
 * Migrates to the latest schema, one process at a time. The API and the worker both migrate at start (the Helm chart
 * starts them together): knex's own lock lives in a table that the first migration creates, so two processes on an
 * empty database both try to create it and one fails. A PostgreSQL advisory lock, held on one connection for the
 * whole migration, serialises them; the second finds nothing left to do.
 */
export async function migrateLatest(db: Knex): Promise<void> {
  const client = await db.client.acquireConnection();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await db.migrate.latest({ migrationSource });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await db.client.releaseConnection(client);
  }
}

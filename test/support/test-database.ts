import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/db/knex';
import { createKey, createOrganization } from '../../src/dev/credentials';

/**
 * A new, migrated database on the test PostgreSQL with one organization and both kinds of key: what the tests
 * that run the API and the worker as separate processes hand to those processes.
 */
export async function createTestDatabase(name: string, org: { name: string; email: string }): Promise<{ db: Knex; databaseUrl: string; apiKey: string; serviceToken: string }> {
  const database = `ckw_${name}_${process.pid}`;
  const admin = createDb(process.env.TEST_POSTGRES_URL!, { min: 0, max: 1 });
  await admin.raw(`CREATE DATABASE ${database}`);
  await admin.destroy();
  const databaseUrl = process.env.TEST_POSTGRES_URL!.replace(/\/postgres$/, `/${database}`);
  const db = createDb(databaseUrl);
  await migrateLatest(db);
  const orgId = await createOrganization(db, org.name, org.email);
  return { db, databaseUrl, apiKey: await createKey(db, orgId, 'admin', 'admin'), serviceToken: await createKey(db, orgId, 'service', 'ingest') };
}

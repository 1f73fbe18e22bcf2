import { createDb, migrateLatest } from '../src/db/knex';

// The API and the worker start together (the Helm chart) and both migrate: on an empty database they must not race
// (knex's own lock is a table the first migration creates, so two processes both tried to create it and one failed).
describe('migrations', () => {
  it('run once when several processes migrate an empty database at the same moment', async () => {
    const database = `ckw_migrate_race_${process.pid}`;
    const admin = createDb(process.env.TEST_POSTGRES_URL!, { min: 0, max: 1 });
    await admin.raw(`CREATE DATABASE ${database}`);
    await admin.destroy();
    const url = process.env.TEST_POSTGRES_URL!.replace(/\/postgres$/, `/${database}`);
    const processes = Array.from({ length: 4 }, () => createDb(url));
    try {
      await Promise.all(processes.map((db) => migrateLatest(db)));
      const applied = await processes[0]('knex_migrations').select('name');
      expect(applied.length).toBeGreaterThan(0);
      expect(new Set(applied.map((m) => m.name)).size).toBe(applied.length);
      // Nothing left to do for a later start.
      await migrateLatest(processes[1]);
      expect(await processes[0]('knex_migrations').count({ n: '*' }).first()).toEqual({ n: String(applied.length) });
    } finally {
      await Promise.all(processes.map((db) => db.destroy()));
    }
  });
});

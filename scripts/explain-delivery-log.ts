/**
 * `node --import tsx scripts/explain-delivery-log.ts [rows]`: the index check for the Delivery Log.
 * Loads `rows` deliveries (default 1,000,000; one event and one attempt each, spread over 90 days, one
 * webhook with a fifth of them) into a scratch database — a fresh embedded PostgreSQL, or a new database on
 * DATABASE_URL's server — then prints EXPLAIN ANALYZE of the exact SQL the stores send for the log queries
 * and the retention prune, the prune's plans without migration 007's indexes, and a full prune's time.
 * Numbers are in docs/operations.md ("Data").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../src/db/knex';
import { startEmbeddedPostgres } from '../src/dev/postgres';
import { deliveriesStore } from '../src/db/stores/deliveries';
import { eventsStore } from '../src/db/stores/events';
import { pruneDeliveryLog } from '../src/db/log-retention';
import { freePort } from '../test/support/free-port';
import { runScript } from '../src/dev/run-script';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const DAY = 24 * 60 * 60 * 1000;
const HOT = 'wh_0';

async function load(db: Knex): Promise<void> {
  const t0 = Date.now();
  await db.raw(`INSERT INTO organizations (id, name, notification_email) VALUES ('org_x', 'Scale', 'ops@scale.test')`);
  await db.raw(`INSERT INTO webhooks (id, organization_id, destination, display_url, target_ciphertext, secret_ciphertext, events, status)
    SELECT 'wh_' || g, 'org_x', 'generic', 'https://example.com/h', 'x', 'x', '["secret.created"]', 'active' FROM generate_series(0, 199) g`);
  await db.raw(`INSERT INTO events (organization_id, id, type, timestamp, data, delivery_count, received_at, dispatched_at)
    SELECT 'org_x', 'evt_' || g, (ARRAY['secret.created','secret.updated','secret.deleted','vault.deleted','member.added'])[1 + (g / 5) % 5], t, '{}', 1, t, t
    FROM generate_series(1, ?::int) g, LATERAL (SELECT now() - (g::float8 / ? * interval '90 days') AS t) x`, [ROWS, ROWS]);
  // A fifth of the deliveries on one busy webhook; 1 % failed, 0.5 % still retrying, the rest succeeded.
  await db.raw(`INSERT INTO deliveries (id, organization_id, webhook_id, event_id, event_type, status, attempt_count, created_at, updated_at, completed_at)
    SELECT 'dlv_' || lpad(g::text, 8, '0'), 'org_x', CASE WHEN g % 5 = 0 THEN '${HOT}' ELSE 'wh_' || (1 + g % 199) END, e.id, e.type,
      CASE WHEN (g / 5) % 100 = 7 THEN 'failed' WHEN (g / 5) % 200 = 3 THEN 'retrying' ELSE 'succeeded' END, 1, e.received_at, e.received_at, e.received_at
    FROM generate_series(1, ?::int) g JOIN events e ON e.organization_id = 'org_x' AND e.id = 'evt_' || g`, [ROWS]);
  await db.raw(`INSERT INTO delivery_attempts (delivery_id, number, idempotency_key, trigger, attempted_at, request_url, request_headers, request_body, response_status, duration_ms, succeeded)
    SELECT id, 1, id || ':1', 'scheduled', created_at, 'https://example.com/h', '{}', '{"event":"secret.created"}', 200, 50, true FROM deliveries`);
  await db.raw('ANALYZE');
  console.log(`Loaded ${ROWS.toLocaleString('en')} events, deliveries and attempts in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * Runs `call` capturing the SQL it sends, then shows EXPLAIN ANALYZE of each statement; all inside a transaction
 * that is rolled back, after `setup` (not shown) has run in it.
 */
async function explain(db: Knex, title: string, call: (trx: Knex.Transaction) => Promise<unknown>, setup?: (trx: Knex.Transaction) => Promise<unknown>): Promise<void> {
  const statements: { sql: string; bindings: unknown[] }[] = [];
  await db.transaction(async (trx) => {
    await setup?.(trx);
    const capture = (q: { sql: string; bindings?: unknown[] }) => void (/^(select|delete|update)/i.test(q.sql) && statements.push({ sql: q.sql, bindings: q.bindings ?? [] }));
    db.on('query', capture);
    try {
      await call(trx);
    } finally {
      db.removeListener('query', capture);
    }
    for (const s of statements) {
      // knex reports pg's numbered placeholders ($1, $2… in order); raw() takes them back as ?.
      const plan = await trx.raw(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${s.sql.replace(/\$\d+/g, '?')}`, s.bindings as never[]);
      console.log(`\n-- ${title}\n${s.sql}\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}`);
    }
    throw ROLLBACK;
  }).catch((err) => {
    if (err !== ROLLBACK) throw err;
  });
}
const ROLLBACK = Symbol('rollback');

async function main(): Promise<void> {
  let stop = async () => {};
  let url: string;
  if (process.env.DATABASE_URL) {
    const admin = createDb(process.env.DATABASE_URL, { min: 0, max: 1 });
    const name = `ckw_explain_${Date.now()}`;
    await admin.raw(`CREATE DATABASE ${name}`);
    await admin.destroy();
    url = process.env.DATABASE_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-explain-'));
    fs.chmodSync(dir, 0o755);
    const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort() });
    await pg.createDatabase('ckw_explain');
    url = pg.url('ckw_explain');
    stop = async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const db = createDb(url);
  try {
    await migrateLatest(db);
    await load(db);
    const [{ version }] = (await db.raw('select version()')).rows;
    console.log(version);
    const deep: { created_at: Date; id: string } = (await db.raw(`SELECT created_at, id FROM deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC OFFSET ? LIMIT 1`, [HOT, Math.floor(ROWS / 10)])).rows[0];
    const cutoff = new Date(Date.now() - 30 * DAY);

    await explain(db, `Delivery Log, first page of the busy webhook (${(ROWS / 5).toLocaleString('en')} deliveries)`, (trx) => deliveriesStore.listForWebhook(trx, HOT, {}, 51));
    await explain(db, 'Delivery Log, status=failed (1 %)', (trx) => deliveriesStore.listForWebhook(trx, HOT, { status: 'failed' }, 51));
    await explain(db, 'Delivery Log, event=vault.deleted', (trx) => deliveriesStore.listForWebhook(trx, HOT, { eventType: 'vault.deleted' }, 51));
    await explain(db, `Delivery Log, cursor ${Math.floor(ROWS / 10).toLocaleString('en')} rows deep`, (trx) => deliveriesStore.listForWebhook(trx, HOT, {}, 51, { createdAt: deep.created_at.toISOString(), id: deep.id }));
    await explain(db, 'Delivery Log, status=failed on a typical webhook', (trx) => deliveriesStore.listForWebhook(trx, 'wh_17', { status: 'failed' }, 51));
    await explain(db, "Open deliveries of the busy webhook (delete/disable)", (trx) => deliveriesStore.listOpenIdsForWebhook(trx, HOT));
    await explain(db, "An event's deliveries", (trx) => deliveriesStore.listIdsForEvent(trx, 'org_x', 'evt_12345'));
    // Steady state: each daily run finds one day's worth past the cutoff (here the oldest of 90 days).
    const steady = new Date(Date.now() - 89 * DAY);
    await explain(db, 'Prune, steady state (one day past the cutoff): one batch of deliveries', (trx) => deliveriesStore.lockPrunable(trx, steady, 1000));
    // Events go after their deliveries: explained with the deliveries past the cutoff already deleted, as in a prune.
    const withoutDeliveriesBefore = (before: Date) => (trx: Knex.Transaction) => trx.raw('DELETE FROM deliveries WHERE completed_at < ?', [before]);
    await explain(db, 'Prune, steady state: one batch of events', (trx) => eventsStore.deleteUnreferencedBefore(trx, steady, 1000), withoutDeliveriesBefore(steady));
    // First run after a backlog: two thirds of the table are past a 30-day cutoff.
    await explain(db, 'Prune, backlog (2/3 past the cutoff): one batch of deliveries', (trx) => deliveriesStore.lockPrunable(trx, cutoff, 1000));
    await explain(db, 'Prune, backlog: one batch of events', (trx) => eventsStore.deleteUnreferencedBefore(trx, cutoff, 1000), withoutDeliveriesBefore(cutoff));

    console.log('\n==== without migration 007 indexes');
    await db.transaction(async (trx) => {
      await trx.raw('DROP INDEX deliveries_completed_at_index, deliveries_organization_id_event_id_index, events_received_at_index');
      const steady = new Date(Date.now() - 89 * DAY);
      await explain(trx as unknown as Knex, 'Prune, steady state, without the index: one batch of deliveries', (t) => deliveriesStore.lockPrunable(t, steady, 1000));
      await explain(trx as unknown as Knex, 'Prune, steady state, without the indexes: one batch of events', (t) => eventsStore.deleteUnreferencedBefore(t, steady, 1000), (t) => t.raw('DELETE FROM deliveries WHERE completed_at < ?', [steady]));
      throw ROLLBACK;
    }).catch((err) => {
      if (err !== ROLLBACK) throw err;
    });

    const t0 = Date.now();
    const pruned = await pruneDeliveryLog(db, { cutoff, batchSize: 1000 });
    const seconds = (Date.now() - t0) / 1000;
    console.log(`\nFull prune at 30 days: ${JSON.stringify(pruned)} in ${seconds.toFixed(1)} s (${Math.round(pruned.deliveries / seconds).toLocaleString('en')} deliveries/s, batches of 1000)`);
  } finally {
    await db.destroy();
    await stop();
  }
}

runScript(main);

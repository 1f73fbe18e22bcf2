/**
 * The system under test, as `npm start` runs it — embedded PostgreSQL, the Temporal CLI dev server (durable: a
 * SQLite file with the pragmas `npm start` uses; or in memory), and the API+worker process — each its own OS
 * process so /proc can charge CPU and memory to each.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../src/dev/postgres';
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { DevServer, startTemporalDevServer } from '../src/dev/temporal-dev-server';
import { installRuntime } from '../src/temporal-connection';
import { serviceNode } from '../src/dev/node-runtime';
import { freePort } from '../src/dev/ports';
import { processTree } from './proc';
import { createDb } from '../src/db/knex';
import { ensureDevCredentials } from '../src/dev/credentials';
import { SecretBox } from '../src/domain/secret-box';
import { benchArtefacts } from './artefacts';

export type TemporalMode = 'durable' | 'memory';

export interface System {
  mode: TemporalMode;
  dir: string;
  apiUrl: string;
  temporal: DevServer;
  temporalClient: Client;
  /** The system's PostgreSQL database (the bench makes extra organizations in it). */
  databaseUrl: string;
  /** Task-queue priority and fairness on the dev server (default on, as npm start runs it). */
  fairness: boolean;
  /** True when the API and the worker run as separate processes (as the Helm chart deploys them). */
  split: boolean;
  credentials: { organizationId: string; apiKey: string; serviceToken: string };
  /** Process-tree roots whose CPU and memory the bench reads; `node` is every process of ours. */
  pids: { temporal: number; postgres: number; node: number[]; app: Record<string, number> };
  stop: () => Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');

async function waitUntil(check: () => Promise<boolean>, what: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startSystem(mode: TemporalMode, log: (line: string) => void, split = false, fairness = true): Promise<System> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-bench-'));
  fs.chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort() });
  await pg.createDatabase('ckw_bench');
  // The postmaster: the `postgres` process whose parent is not itself a postgres process.
  const postgresPid = processTree(process.pid).find((p) => p.comm === 'postgres' && processTree(process.pid).find((q) => q.pid === p.ppid)?.comm !== 'postgres')!.pid;

  const cliPath = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
  const temporal = await startTemporalDevServer({ cliPath, port: await freePort(), uiPort: null, dbFile: mode === 'durable' ? path.join(dir, 'temporal.db') : undefined, fairness });

  const port = await freePort();
  const appLog = fs.openSync(path.join(dir, 'app.log'), 'a');
  // BENCH_PROFILE=1: a V8 CPU profile of the API+worker process, written to BENCH_PROFILE_DIR when it stops.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR ?? path.join(ROOT, '.bench-profiles')}`] : [];
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    ...serviceNode.env,
    DATA_DIR: path.join(dir, 'app'),
    PORT: String(port),
    DATABASE_URL: pg.url('ckw_bench'),
    TEMPORAL_ADDRESS: temporal.address,
    ALLOW_PRIVATE_TARGETS: 'true',
    // Shared by the API and the worker when they are separate processes.
    SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
    // The bench measures delivery, not the rate limiter: both limits out of the way.
    RATE_LIMIT_PER_MINUTE: '100000000',
    INGEST_RATE_LIMIT_PER_SECOND: '1000000',
    INGEST_RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
  };
  const { app } = await benchArtefacts(log);
  const node = (entry: string) => spawn(process.execPath, [...profile, ...serviceNode.flags, path.join(app, entry)], { cwd: ROOT, stdio: ['ignore', appLog, appLog], env });
  // `npm start`'s one process, or (BENCH_SPLIT=1) the API and the worker apart, as the Helm chart runs them.
  const apps: Record<string, ChildProcess> = split ? { api: node('api/server.js'), worker: node('worker.js') } : { app: node('main.js') };
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${apiUrl}/readyz`)).ok, 'the API', 120_000);
  let credentials: System['credentials'];
  if (split) {
    // No `npm start` bootstrap here: the bench makes the development organization and keys itself.
    const db = createDb(pg.url('ckw_bench'));
    credentials = (await ensureDevCredentials(db, path.join(dir, 'app'))).credentials;
    await db.destroy();
  } else {
    const credentialsFile = path.join(dir, 'app', 'dev-credentials.json');
    await waitUntil(async () => fs.existsSync(credentialsFile), 'dev credentials', 30_000);
    credentials = JSON.parse(fs.readFileSync(credentialsFile, 'utf8'));
  }

  installRuntime();
  const connection = await NativeConnection.connect({ address: temporal.address });
  const temporalClient = new Client({ connection, namespace: 'default' });

  return {
    mode,
    dir,
    apiUrl,
    temporal,
    temporalClient,
    databaseUrl: pg.url('ckw_bench'),
    fairness,
    split,
    credentials,
    pids: {
      temporal: temporal.pid,
      postgres: postgresPid,
      node: Object.values(apps).map((a) => a.pid!),
      app: Object.fromEntries(Object.entries(apps).map(([role, a]) => [role, a.pid!])),
    },
    async stop() {
      await connection.close();
      await Promise.all(
        Object.values(apps).map(async (app) => {
          if (app.exitCode !== null) return;
          const exited = new Promise((r) => app.once('exit', r));
          app.kill('SIGTERM');
          const timer = setTimeout(() => app.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
        }),
      );
      await temporal.stop();
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

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
  /**
   * Rejects as soon as one of our processes exits while the system runs, naming it: a scenario races its work
   * against it, so a crash stops the run at once instead of waiting out a deadline.
   */
  crashed: Promise<never>;
  /** Stops everything. `keepLogs` (a failed run): every process's log is copied to bench-logs/ first, and named. */
  stop: (o?: { keepLogs?: boolean }) => Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');

/** A failed run's logs, kept where a person finds them: bench-logs/<time>/, one file per process. */
function keepProcessLogs(dir: string, log: (line: string) => void): void {
  const kept = path.join(ROOT, 'bench-logs', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(kept, { recursive: true });
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
  for (const file of files) fs.copyFileSync(path.join(dir, file), path.join(kept, file));
  // The Temporal server and PostgreSQL log errors only: a file of theirs exists when they had one.
  log(`the run failed: the processes' logs (${files.join(', ')}) are kept in ${path.relative(process.cwd(), kept) || kept}`);
}

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
  const logTo = (file: string) => (line: string) => fs.appendFileSync(path.join(dir, file), line + '\n');
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort(), log: logTo('postgres.log') });
  await pg.createDatabase('ckw_bench');
  // The postmaster: the `postgres` process whose parent is not itself a postgres process.
  const postgresPid = processTree(process.pid).find((p) => p.comm === 'postgres' && processTree(process.pid).find((q) => q.pid === p.ppid)?.comm !== 'postgres')!.pid;

  const cliPath = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
  const temporal = await startTemporalDevServer({ cliPath, port: await freePort(), uiPort: null, dbFile: mode === 'durable' ? path.join(dir, 'temporal.db') : undefined, fairness, log: logTo('temporal.log') });

  const port = await freePort();
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
  const node = (role: string, entry: string) => {
    const logFile = fs.openSync(path.join(dir, `${role}.log`), 'a');
    return spawn(process.execPath, [...profile, ...serviceNode.flags, path.join(app, entry)], { cwd: ROOT, stdio: ['ignore', logFile, logFile], env });
  };
  // `npm start`'s one process, or (BENCH_SPLIT=1) the API and the worker apart, as the Helm chart runs them.
  const apps: Record<string, ChildProcess> = split ? { api: node('api', 'api/server.js'), worker: node('worker', 'worker.js') } : { app: node('app', 'main.js') };
  let stopping = false;
  const crashed = new Promise<never>((_, reject) => {
    for (const [role, child] of Object.entries(apps)) {
      child.once('exit', (code, signal) => {
        if (!stopping) reject(new Error(`the ${role} process exited (${signal ?? `code ${code}`}) while the bench ran: see ${role}.log`));
      });
    }
  });
  crashed.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  const apiUrl = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntil(async () => (await fetch(`${apiUrl}/readyz`)).ok, 'the API', 120_000), crashed]);
  } catch (err) {
    // A start that failed: its logs kept, everything started so far stopped.
    stopping = true;
    keepProcessLogs(dir, log);
    for (const child of Object.values(apps)) child.kill('SIGKILL');
    await temporal.stop();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
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
    crashed,
    async stop({ keepLogs = false } = {}) {
      stopping = true;
      if (keepLogs) keepProcessLogs(dir, log);
      await connection.close();
      await Promise.all(
        Object.values(apps).map(async (app) => {
          if (app.exitCode !== null || app.signalCode !== null) return;
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

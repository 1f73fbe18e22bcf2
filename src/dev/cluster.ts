/**
 * The production shape on one machine (`npm run cluster`): PostgreSQL, the real Temporal server on it
 * (persistence + SQL visibility, 4 history shards), the Temporal Web UI, two worker processes and two API
 * processes. Everything on loopback and free ports; data and logs under `<DATA_DIR>/cluster/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Config } from '../config';
import { createDb, migrateLatest } from '../db/knex';
import { SecretBox } from '../domain/secret-box';
import { DEV_DATABASE } from '../runtime';
import { ensureDevCredentials } from './credentials';
import { serviceNode } from './node-runtime';
import { freePort } from './ports';
import { startEmbeddedPostgres } from './postgres';
import { ManagedProcess, startProcess, tail } from './processes';
import { Stops } from './stops';
import { databaseFromUrl, ensureNamespace, freeServerPorts, setupTemporalSchema, startTemporalServer, startTemporalUi } from './temporal-cluster';
import { ensureTemporalServer, ensureTemporalUiServer, TEMPORAL_SERVER_VERSION } from './temporal-server';

const ROOT = path.resolve(__dirname, '../..');
export const CLUSTER_WORKERS = 2;
export const CLUSTER_APIS = 2;
/** Namespace retention: closed workflow histories are kept as long as the Delivery Log keeps attempts. */
export const NAMESPACE_RETENTION_DAYS = 30;

export interface ClusterNode {
  name: string;
  process: ManagedProcess;
  pid: number;
}

export interface Cluster {
  dir: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalHttpUrl: string;
  temporalMetricsUrl: string;
  /** Null when the UI server could not be built (then `uiError` says why). */
  uiUrl: string | null;
  uiError: string | null;
  apis: (ClusterNode & { url: string })[];
  workers: ClusterNode[];
  credentialsFile: string | null;
  logDir: string;
  stop: () => Promise<void>;
}

type Log = (line: string) => void;

/** The secret-encryption key shared by every process: from the environment, else generated once in `dir`. */
function sharedSecretKey(config: Config, dir: string): string {
  if (config.secretEncryptionKey) return config.secretEncryptionKey;
  const file = path.join(dir, 'secret-encryption.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, SecretBox.generateKey() + '\n', { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

/** How the cluster runs a worker or an API (`script`, from the project root): Node as the start scripts run it. */
export function serviceNodeLaunch(script: string, env: NodeJS.ProcessEnv): { command: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  return { command: process.execPath, args: [...serviceNode.flags, '--import', 'tsx', path.join(ROOT, script)], cwd: ROOT, env: { ...env, ...serviceNode.env } };
}

/** The pids of the workers polling `taskQueue` (an SDK worker's identity is `<pid>@<host>`). */
export async function pollingWorkerPids(address: string, namespace: string, taskQueue: string): Promise<number[]> {
  const connection = await Connection.connect({ address });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (pollers ?? []).map((p) => Number.parseInt(p.identity ?? '', 10)).filter((pid) => Number.isInteger(pid));
  } finally {
    await connection.close();
  }
}

/** Starts everything; `stops` is the caller's, so a signal during start-up can ask it to give up (`stops.requested`). */
export async function startCluster(config: Config, log: Log, stops = new Stops(log)): Promise<Cluster> {
  const dir = path.join(config.dataDir, 'cluster');
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const stopAll = () => stops.run();

  try {
    // Go builds first (minutes on a cold cache, never again), one after the other: 2 cores.
    const build = await ensureTemporalServer(log);
    stops.checkpoint();
    let uiBinary: string | null = null;
    let uiError: string | null = null;
    try {
      uiBinary = await ensureTemporalUiServer(log);
    } catch (err) {
      uiError = `the Temporal UI server could not be built: ${(err as Error).message.split('\n')[0]}`;
      log(`Warning: ${uiError}`);
    }

    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      log(`Starting PostgreSQL (embedded, data in ${path.join(dir, 'postgres')})…`);
      // Its own process group, as every other part here: a terminal's Ctrl-C reaches only us, and we stop it last.
      const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort(), ownProcessGroup: true });
      stops.push(() => pg.stop());
      await pg.createDatabase(DEV_DATABASE);
      databaseUrl = pg.url(DEV_DATABASE);
    }
    const temporalDb = databaseFromUrl(databaseUrl);
    stops.checkpoint();

    log(`Setting up the Temporal schemas (temporal, temporal_visibility) for server ${TEMPORAL_SERVER_VERSION}…`);
    await setupTemporalSchema({ build, db: temporalDb, logFile: path.join(logDir, 'temporal-sql-tool.log') });
    stops.checkpoint();

    log('Starting the Temporal server (PostgreSQL persistence and SQL visibility, 4 history shards)…');
    const server = await startTemporalServer({ build, db: temporalDb, ports: await freeServerPorts(), dir: path.join(dir, 'temporal'), logFile: path.join(logDir, 'temporal-server.log') });
    stops.push(() => server.stop());
    const namespace = config.temporal.namespace;
    log(`Waiting for namespace ${namespace} and its search attributes…`);
    const serverExited = () => {
      const { child, logFile } = server.process;
      return child.exitCode !== null || child.signalCode !== null ? `the Temporal server exited (log ${logFile}):\n${tail(logFile, 5)}` : null;
    };
    await ensureNamespace({ address: server.address, namespace, retentionDays: NAMESPACE_RETENTION_DAYS, serverExited });
    stops.checkpoint();

    let uiUrl: string | null = null;
    if (uiBinary) {
      const ui = await startTemporalUi({ binary: uiBinary, frontendAddress: server.address, namespace, port: await freePort(), dir: path.join(dir, 'ui'), logFile: path.join(logDir, 'temporal-ui.log') });
      stops.push(() => ui.stop());
      uiUrl = ui.url;
    }

    // Migrations and credentials once here, before four processes share the database.
    const db = createDb(databaseUrl, { min: 0, max: 2 });
    let credentialsFile: string | null = null;
    try {
      await migrateLatest(db);
      if (!config.production) credentialsFile = (await ensureDevCredentials(db, dir)).file;
    } finally {
      await db.destroy();
    }

    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: namespace,
      SECRET_ENCRYPTION_KEY: sharedSecretKey(config, dir),
      ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
    };
    // This cluster is local and plain: Temporal Cloud credentials meant for elsewhere must not apply.
    delete baseEnv.TEMPORAL_API_KEY;
    delete baseEnv.TEMPORAL_TLS;
    const node = (script: string, name: string, env: NodeJS.ProcessEnv) => startProcess({ name, ...serviceNodeLaunch(script, env), logFile: path.join(logDir, `${name}.log`) });

    const workers: ClusterNode[] = [];
    for (let i = 1; i <= CLUSTER_WORKERS; i++) {
      const worker = node('src/worker.ts', `worker-${i}`, baseEnv);
      // Longer than the worker's own drain, so an attempt in flight is never cut by us.
      stops.push(() => worker.stop(60_000));
      workers.push({ name: worker.name, process: worker, pid: worker.child.pid! });
    }
    const apis: Cluster['apis'] = [];
    for (let i = 1; i <= CLUSTER_APIS; i++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const api = node('src/api/server.ts', `api-${i}`, { ...baseEnv, HOST: '127.0.0.1', PORT: String(port), PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? url });
      stops.push(() => api.stop(30_000));
      apis.push({ name: api.name, process: api, pid: api.child.pid!, url });
    }

    log(`Waiting for ${CLUSTER_APIS} API and ${CLUSTER_WORKERS} worker processes…`);
    const until = Date.now() + 180_000;
    const failed = () => [...apis, ...workers].find((n) => n.process.child.exitCode !== null || n.process.child.signalCode !== null);
    const ready = async () => {
      const apisReady = await Promise.all(apis.map((a) => fetch(`${a.url}/readyz`).then((r) => r.ok, () => false)));
      const polling = await pollingWorkerPids(server.address, namespace, config.temporal.taskQueue).catch((): number[] => []);
      return apisReady.every(Boolean) && workers.every((w) => polling.includes(w.pid));
    };
    while (!(await ready())) {
      stops.checkpoint();
      const dead = failed();
      if (dead) throw new Error(`${dead.name} exited while starting (log ${dead.process.logFile}):\n${tail(dead.process.logFile)}`);
      if (Date.now() > until) throw new Error(`The API and worker processes were not ready within 180 s (logs in ${logDir})`);
      await new Promise((r) => setTimeout(r, 500));
    }

    return {
      dir,
      databaseUrl,
      temporalAddress: server.address,
      temporalHttpUrl: server.httpUrl,
      temporalMetricsUrl: server.metricsUrl,
      uiUrl,
      uiError,
      apis,
      workers,
      credentialsFile,
      logDir,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What `npm run cluster` prints: every URL, where the logs are, and how to see fail-over. */
export function clusterBanner(cluster: Cluster, config: Config): string[] {
  const masked = config.databaseUrl ? 'DATABASE_URL' : cluster.databaseUrl.replace(/:[^:@/]+@/, ':****@');
  return [
    '',
    'CloudKeep Webhooks cluster is running.',
    ...cluster.apis.map((a) => `  ${a.name.padEnd(14)} ${a.url}   (docs ${a.url}/docs, settings ${a.url}/settings/)   pid ${a.pid}`),
    ...cluster.workers.map((w) => `  ${w.name.padEnd(14)} task queue ${config.temporal.taskQueue}   pid ${w.pid}`),
    `  Temporal UI    ${cluster.uiUrl ?? `not available: ${cluster.uiError}`}`,
    `  Temporal       ${cluster.temporalAddress} (gRPC; HTTP API ${cluster.temporalHttpUrl}; metrics ${cluster.temporalMetricsUrl}; namespace ${config.temporal.namespace})`,
    `  PostgreSQL     ${masked} (+ temporal, temporal_visibility)`,
    ...(cluster.credentialsFile ? [`  Credentials    ${cluster.credentialsFile}`] : []),
    `  Logs           ${cluster.logDir}/`,
    "Try fail-over: kill -9 a worker's pid; the other one carries on.",
    'Press Ctrl-C to stop everything.',
  ];
}

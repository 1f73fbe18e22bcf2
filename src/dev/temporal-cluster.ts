/**
 * The real Temporal server on PostgreSQL (persistence and SQL visibility), as `npm run cluster` and the
 * cluster test run it: schema set up with Temporal's SQL tool, the server from the template under
 * temporal/cluster/, the namespace with our search attributes, and the Temporal Web UI.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection, TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/messages';
import { freePort, freePortBelow, waitForListening } from './ports';
import { ManagedProcess, startProcess, tail } from './processes';
import type { TemporalServerBuild } from './temporal-server';

const execFileAsync = promisify(execFile);
const TEMPLATES = path.resolve(__dirname, '../../temporal/cluster');
const DYNAMIC_CONFIG = path.resolve(__dirname, '../../temporal/dynamicconfig/production.yaml');

/** Where Temporal keeps its data: a PostgreSQL server it may create databases on. */
export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function databaseFromUrl(url: string): TemporalDatabase {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

export const TEMPORAL_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

/**
 * Creates the `temporal` and `temporal_visibility` databases and brings their schemas to the build's
 * version. Every step is idempotent, so it runs on each start; after a server upgrade it is the schema
 * upgrade (update-schema applies only the versions the database does not have yet).
 */
export async function setupTemporalSchema(options: { build: TemporalServerBuild; db: TemporalDatabase; logFile: string }): Promise<void> {
  const { build, db } = options;
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const run = async (database: string, args: string[]) => {
    const base = ['--plugin', 'postgres12', '--ep', db.host, '-p', String(db.port), '-u', db.user, '--db', database];
    try {
      // The password goes through the environment: never on a command line others can read in `ps`.
      const { stdout, stderr } = await execFileAsync(build.sqlTool, [...base, ...args], { env: { ...process.env, SQL_PASSWORD: db.password } });
      fs.appendFileSync(options.logFile, stdout + stderr);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      fs.appendFileSync(options.logFile, (e.stdout ?? '') + (e.stderr ?? ''));
      throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed (see ${options.logFile}):\n${tail(options.logFile, 5)}`);
    }
  };
  for (const [database, schema] of [
    [TEMPORAL_DATABASES.persistence, 'temporal'],
    [TEMPORAL_DATABASES.visibility, 'visibility'],
  ] as const) {
    await run(database, ['create-database']);
    await run(database, ['setup-schema', '-v', '0.0']);
    await run(database, ['update-schema', '-d', path.join(build.schemaDir, schema, 'versioned')]);
  }
}

export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export async function freeServerPorts(): Promise<TemporalServerPorts> {
  const names = ['frontend', 'frontendHttp', 'frontendMembership', 'history', 'historyMembership', 'matching', 'matchingMembership', 'worker', 'workerMembership', 'metrics'] as const;
  const ports: Partial<TemporalServerPorts> = {};
  // Membership ports are stored as smallint in cluster_membership: below 32768.
  for (const name of names) ports[name] = name.endsWith('Membership') ? await freePortBelow(32_768) : await freePort();
  return ports as TemporalServerPorts;
}

export interface RunningTemporalServer {
  process: ManagedProcess;
  address: string;
  httpUrl: string;
  metricsUrl: string;
  stop: () => Promise<void>;
}

export interface TemporalServerOptions {
  build: TemporalServerBuild;
  db: TemporalDatabase;
  ports: TemporalServerPorts;
  dir: string;
}

/**
 * The command that runs every Temporal service (frontend, history, matching, worker) in one process on loopback,
 * from temporal/cluster/config.yaml.tmpl written under `dir`. Shared with the chaos harness, which starts it
 * (and restarts it after a kill -9) under its own supervisor.
 */
export function temporalServerLaunch(options: TemporalServerOptions): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const { ports, db } = options;
  const configDir = path.join(options.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.copyFileSync(path.join(TEMPLATES, 'config.yaml.tmpl'), path.join(configDir, 'cluster.yaml'));
  const env = {
    ...process.env,
    CLUSTER_DB_HOST: db.host,
    CLUSTER_DB_PORT: String(db.port),
    CLUSTER_DB_USER: db.user,
    CLUSTER_DB_PASSWORD: db.password,
    CLUSTER_FRONTEND_PORT: String(ports.frontend),
    CLUSTER_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    CLUSTER_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    CLUSTER_HISTORY_PORT: String(ports.history),
    CLUSTER_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    CLUSTER_MATCHING_PORT: String(ports.matching),
    CLUSTER_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    CLUSTER_WORKER_PORT: String(ports.worker),
    CLUSTER_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    CLUSTER_METRICS_PORT: String(ports.metrics),
    CLUSTER_DYNAMIC_CONFIG: DYNAMIC_CONFIG,
  };
  return { command: options.build.server, args: ['--root', options.dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'], env };
}

/** Starts the Temporal server (temporalServerLaunch) and waits until its frontend listens. */
export async function startTemporalServer(options: TemporalServerOptions & { logFile: string }): Promise<RunningTemporalServer> {
  const { ports } = options;
  const launch = temporalServerLaunch(options);
  const server = startProcess({ name: 'temporal-server', ...launch, logFile: options.logFile });
  try {
    await waitForListening(ports.frontend, { deadlineMs: 90_000, child: server.child, name: 'The Temporal server' });
  } catch (err) {
    await server.stop(5000);
    throw new Error(`${(err as Error).message}\n${tail(server.logFile)}`);
  }
  return {
    process: server,
    address: `127.0.0.1:${ports.frontend}`,
    httpUrl: `http://127.0.0.1:${ports.frontendHttp}`,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    stop: async () => void (await server.stop(20_000)),
  };
}

/** gRPC status code of a Temporal client error, if it has one. */
const grpcCode = (err: unknown) => (err as { code?: number }).code;
const ALREADY_EXISTS = 6;

/**
 * Registers the namespace (retention in days) and our Keyword search attributes, then waits until a
 * visibility query on them is accepted: a new namespace reaches the frontend's cache only after its next
 * refresh (~10 s), and workflows cannot set a search attribute the server does not know yet.
 */
export async function ensureNamespace(options: { address: string; namespace: string; retentionDays: number; deadlineMs?: number; serverExited?: () => string | null; tls?: TLSConfig }): Promise<void> {
  const { namespace } = options;
  const until = Date.now() + (options.deadlineMs ?? 120_000);
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const exited = options.serverExited?.();
        if (exited) throw new Error(`${what}: ${exited}`);
        if (Date.now() > until) throw new Error(`Temporal at ${options.address}: ${what} failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const connection = await retry('connecting', () => Connection.connect({ address: options.address, tls: options.tls }));
  try {
    const { workflowService, operatorService } = connection;
    await retry(`registering namespace ${namespace}`, async () => {
      try {
        await workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${options.retentionDays} days`) });
      } catch (err) {
        if (grpcCode(err) !== ALREADY_EXISTS) throw err;
      }
    });
    await retry(`registering search attributes in ${namespace}`, async () => {
      const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
      const missing = SEARCH_ATTRIBUTE_KEYS.filter((key) => !customAttributes?.[key.name]);
      if (missing.length === 0) return;
      const searchAttributes = Object.fromEntries(missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]));
      await operatorService.addSearchAttributes({ namespace, searchAttributes });
    });
    const probe = SEARCH_ATTRIBUTE_KEYS.map((key) => `${key.name} = 'probe'`).join(' AND ');
    await retry(`a visibility query in ${namespace}`, () => workflowService.listWorkflowExecutions({ namespace, query: probe, pageSize: 1 }));
  } finally {
    await connection.close();
  }
}

export interface RunningUi {
  process: ManagedProcess;
  url: string;
  stop: () => Promise<void>;
}

/** The Temporal Web UI against the cluster's frontend, from temporal/cluster/ui.yaml.tmpl. */
export async function startTemporalUi(options: { binary: string; frontendAddress: string; namespace: string; port: number; dir: string; logFile: string }): Promise<RunningUi> {
  const configDir = path.join(options.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.copyFileSync(path.join(TEMPLATES, 'ui.yaml.tmpl'), path.join(configDir, 'cluster.yaml'));
  const ui = startProcess({
    name: 'temporal-ui',
    command: options.binary,
    args: ['--root', options.dir, '--config', 'config', '--env', 'cluster', 'start'],
    env: { ...process.env, CLUSTER_UI_PORT: String(options.port), CLUSTER_FRONTEND_ADDRESS: options.frontendAddress, CLUSTER_NAMESPACE: options.namespace },
    logFile: options.logFile,
  });
  try {
    await waitForListening(options.port, { deadlineMs: 60_000, child: ui.child, name: 'The Temporal UI' });
  } catch (err) {
    await ui.stop(5000);
    throw new Error(`${(err as Error).message}\n${tail(ui.logFile)}`);
  }
  return { process: ui, url: `http://127.0.0.1:${options.port}`, stop: async () => void (await ui.stop(10_000)) };
}

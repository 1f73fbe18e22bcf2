/**
 * A whole CloudKeep Webhooks as OS processes the harness owns, on free loopback ports with data under one run
 * folder, plus the harness's own PostgreSQL and Temporal connections for set-up and observation. Two shapes:
 *  - `dev`: PostgreSQL, the Temporal CLI dev server (SQLite file), one worker, one API;
 *  - `cluster`: what `npm run cluster` runs (without the UI) — PostgreSQL, the real Temporal server on it
 *    (persistence and SQL visibility), two workers (`worker-1`, `worker-2`) and two APIs (`api-1`, `api-2`).
 * A watchdog restarts a part that died by itself, as a service manager would, and notes it for the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import knexFactory, { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/db/knex';
import { CLUSTER_APIS, CLUSTER_WORKERS } from '../../src/dev/cluster';
import { createKey, createOrganization } from '../../src/dev/credentials';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { databaseFromUrl, freeServerPorts, setupTemporalSchema } from '../../src/dev/temporal-cluster';
import { ensureTemporalServer } from '../../src/dev/temporal-server';
import { SecretBox } from '../../src/domain/secret-box';
import { apiPart, AppEnv, postgresPart, temporalPart, temporalServerPart, workerPart } from './parts';
import { ManagedProcess } from './supervisor';
import type { LoadApi } from './load';
import { waitUntil } from './wait';
import { freePort } from '../../src/dev/ports';

const DATABASE = 'cloudkeep_chaos';

export type Shape = 'dev' | 'cluster';

export interface OrgCredentials {
  id: string;
  apiKey: string;
  serviceToken: string;
}

export interface WatchdogNote {
  part: string;
  at: number;
  note: string;
}

export class ChaosStack {
  readonly notes: WatchdogNote[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private restarting = new Set<string>();

  private constructor(
    readonly shape: Shape,
    readonly runDir: string,
    /** By name: `postgres`, `temporal`, then `worker`/`api` (dev) or `worker-1`, `worker-2`, `api-1`, `api-2` (cluster). */
    readonly parts: Record<string, ManagedProcess>,
    readonly db: Knex,
    /** Every API, in the order of `parts`; the load spreads over them. */
    readonly apis: LoadApi[],
    private temporalAddress: string,
    private temporalClient: Client | null = null,
  ) {}

  /** The API the harness uses for set-up and for reading the Delivery Log. */
  get apiUrl(): string {
    return this.apis[0].url;
  }

  /** A part by name; throws for a name this shape does not have (a scenario written for the other shape). */
  part(name: string): ManagedProcess {
    const proc = this.parts[name];
    if (!proc) throw new Error(`no part ${name} in the ${this.shape} shape (parts: ${Object.keys(this.parts).join(', ')})`);
    return proc;
  }

  static async start(runDir: string, log: (line: string) => void, shape: Shape = 'dev'): Promise<ChaosStack> {
    fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
    // PostgreSQL runs as its own user when we are root: it must be able to reach its folder.
    fs.chmodSync(runDir, 0o755);

    log('  PostgreSQL…');
    const pg = await postgresPart({ runDir, port: await freePort() });
    await pg.process.start();
    const admin = createDb(pg.url('postgres'), { min: 0, max: 1 });
    await admin.raw(`CREATE DATABASE ${DATABASE}`);
    await admin.destroy();
    const databaseUrl = pg.url(DATABASE);
    // The harness's own connection: its pool's warnings while PostgreSQL is down are expected, not news.
    const quiet = () => undefined;
    const db = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 4 }, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    await migrateLatest(db);

    let temporal: ManagedProcess;
    let temporalAddress: string;
    if (shape === 'dev') {
      log('  Temporal dev server…');
      const cliPath = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
      const port = await freePort();
      temporal = temporalPart({ runDir, cliPath, port });
      temporalAddress = `127.0.0.1:${port}`;
    } else {
      log('  Temporal server (PostgreSQL persistence and SQL visibility)…');
      const build = await ensureTemporalServer(log);
      const temporalDb = databaseFromUrl(pg.url('postgres'));
      await setupTemporalSchema({ build, db: temporalDb, logFile: path.join(runDir, 'logs', 'temporal-sql-tool.log') });
      const ports = await freeServerPorts();
      temporal = temporalServerPart({ runDir, build, db: temporalDb, ports });
      temporalAddress = `127.0.0.1:${ports.frontend}`;
    }
    await temporal.start();

    const env: AppEnv & { runDir: string } = {
      databaseUrl,
      temporalAddress,
      taskQueue: 'cloudkeep-chaos',
      secretEncryptionKey: SecretBox.generateKey(),
      dataDir: path.join(runDir, 'app'),
      runDir,
    };
    const nodes: Record<string, ManagedProcess> = {};
    const apis: LoadApi[] = [];
    const cluster = shape === 'cluster';
    const names = (kind: string, n: number) => (cluster ? Array.from({ length: n }, (_, i) => `${kind}-${i + 1}`) : [kind]);
    for (const name of names('worker', CLUSTER_WORKERS)) nodes[name] = workerPart({ ...env, name, asCluster: cluster });
    for (const name of names('api', CLUSTER_APIS)) {
      const port = await freePort();
      nodes[name] = apiPart({ ...env, name, asCluster: cluster, port });
      apis.push({ name, url: `http://127.0.0.1:${port}` });
    }
    const stack = new ChaosStack(shape, runDir, { postgres: pg.process, temporal, ...nodes }, db, apis, temporalAddress);
    log(`  ${Object.keys(nodes).join(', ')}…`);
    await Promise.all(Object.values(nodes).map((n) => n.start()));
    stack.startWatchdog(log);
    return stack;
  }

  /** The harness's own Temporal client (for counting runs); reconnects by itself after a Temporal restart. */
  async temporal(): Promise<Client> {
    if (!this.temporalClient) {
      const connection = await Connection.connect({ address: this.temporalAddress });
      this.temporalClient = new Client({ connection, namespace: 'default' });
    }
    return this.temporalClient;
  }

  private async namespaceReachable(): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const client = await this.temporal();
        await client.connection.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    return false;
  }

  /** A fresh organization per scenario, so one scenario's webhooks never receive another's events. */
  async createOrg(name: string): Promise<OrgCredentials> {
    const id = await createOrganization(this.db, name, `ops+${name}@chaos.test`);
    return { id, apiKey: await createKey(this.db, id, 'admin', 'chaos admin'), serviceToken: await createKey(this.db, id, 'service', 'chaos ingest') };
  }

  /** Restarts (once at a time) any part that exited without being told to and is not held down by a fault. */
  private startWatchdog(log: (line: string) => void): void {
    this.watchdog = setInterval(() => {
      for (const proc of Object.values(this.parts)) {
        if (proc.running || proc.held || this.restarting.has(proc.name)) continue;
        const exit = proc.exits[proc.exits.length - 1];
        if (!exit || exit.expected) continue;
        this.restarting.add(proc.name);
        const note = `${proc.name} exited by itself (code ${exit.code}, signal ${exit.signal}); restarted by the watchdog`;
        this.notes.push({ part: proc.name, at: exit.at, note });
        log(`  ! ${note}`);
        proc
          .start()
          .catch((err) => this.notes.push({ part: proc.name, at: Date.now(), note: `restart failed: ${(err as Error).message}` }))
          .finally(() => this.restarting.delete(proc.name));
      }
    }, 1000);
  }

  /** Every part up and the API ready: the starting line of each scenario. */
  async ensureHealthy(log: (line: string) => void): Promise<void> {
    for (const proc of Object.values(this.parts)) {
      proc.held = false;
      if (!proc.running && !this.restarting.has(proc.name)) await proc.start();
    }
    // Starved of CPU, the dev server's SQLite can lose its namespace ("Namespace not found: 'default'") and stay
    // so; a restart on the same file recovers it. Noted, since the scenario before may have suffered from it.
    if (!(await this.namespaceReachable())) {
      const note = `the Temporal ${this.shape === 'dev' ? 'dev server' : 'server'} no longer found its namespace; restarted it on the same data`;
      this.notes.push({ part: 'temporal', at: Date.now(), note });
      log(`  ! ${note}`);
      await this.parts.temporal.kill9();
      await this.parts.temporal.start();
    }
    const ready = async (url: string) => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200;
    await waitUntil(async () => (await Promise.all(this.apis.map((a) => ready(a.url)))).every(Boolean), 'the stack to be ready', 120_000, { intervalMs: 500 });
    await waitUntil(() => this.nodes('worker').every((w) => w.running) && this.restarting.size === 0, 'the workers to be running', 180_000, { intervalMs: 500 });
  }

  /** The workers (`worker`) or the APIs (`api`) of this shape. */
  nodes(kind: 'worker' | 'api'): ManagedProcess[] {
    return Object.values(this.parts).filter((p) => p.name === kind || p.name.startsWith(`${kind}-`));
  }

  /** Graceful stops in dependency order; whatever does not stop in time is killed by the supervisor. */
  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    const { temporal, postgres } = this.parts;
    await Promise.all([...this.nodes('worker'), ...this.nodes('api')].map((p) => p.stop()));
    await this.temporalClient?.connection.close().catch(() => undefined);
    await this.db.destroy().catch(() => undefined);
    await temporal.stop();
    await postgres.stop();
  }
}

export { freePort };

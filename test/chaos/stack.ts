/**
 * A whole CloudKeep Webhooks as four OS processes the harness owns (PostgreSQL, Temporal, worker, API), on
 * free loopback ports with data under one run folder, plus the harness's own PostgreSQL and Temporal
 * connections for set-up and observation. A watchdog restarts a part that died by itself, as a service
 * manager would, and notes it for the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import knexFactory, { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/db/knex';
import { createKey, createOrganization } from '../../src/dev/credentials';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { SecretBox } from '../../src/domain/secret-box';
import { apiPart, postgresPart, temporalPart, workerPart } from './parts';
import { ManagedProcess } from './supervisor';
import type { Part } from './verdict';
import { waitUntil } from './wait';
import { freePort } from '../../src/dev/ports';

const DATABASE = 'cloudkeep_chaos';


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
    readonly runDir: string,
    readonly parts: Record<Exclude<Part, 'receiver'>, ManagedProcess>,
    readonly db: Knex,
    readonly apiUrl: string,
    private temporalAddress: string,
    private temporalClient: Client | null = null,
  ) {}

  static async start(runDir: string, log: (line: string) => void): Promise<ChaosStack> {
    fs.mkdirSync(path.join(runDir, 'logs'), { recursive: true });
    // PostgreSQL runs as its own user when we are root: it must be able to reach its folder.
    fs.chmodSync(runDir, 0o755);
    const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()];

    log('  PostgreSQL…');
    const pg = await postgresPart({ runDir, port: pgPort });
    await pg.process.start();
    const admin = createDb(pg.url('postgres'), { min: 0, max: 1 });
    await admin.raw(`CREATE DATABASE ${DATABASE}`);
    await admin.destroy();
    const databaseUrl = pg.url(DATABASE);
    // The harness's own connection: its pool's warnings while PostgreSQL is down are expected, not news.
    const quiet = () => undefined;
    const db = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 4 }, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    await migrateLatest(db);

    log('  Temporal dev server…');
    const cliPath = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
    const temporal = temporalPart({ runDir, cliPath, port: temporalPort });
    await temporal.start();

    const env = {
      databaseUrl,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      taskQueue: 'cloudkeep-chaos',
      secretEncryptionKey: SecretBox.generateKey(),
      dataDir: path.join(runDir, 'app'),
      runDir,
    };
    const api = apiPart({ ...env, port: apiPort });
    const worker = workerPart(env);
    const stack = new ChaosStack(runDir, { postgres: pg.process, temporal, worker, api }, db, `http://127.0.0.1:${apiPort}`, env.temporalAddress);
    log('  API and worker…');
    await Promise.all([api.start(), worker.start()]);
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
      const note = 'the Temporal dev server no longer found its namespace; restarted it on the same file';
      this.notes.push({ part: 'temporal', at: Date.now(), note });
      log(`  ! ${note}`);
      await this.parts.temporal.kill9();
      await this.parts.temporal.start();
    }
    await waitUntil(async () => (await fetch(`${this.apiUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200, 'the stack to be ready', 120_000, {
      intervalMs: 500,
    });
    await waitUntil(() => this.parts.worker.running && this.restarting.size === 0, 'the worker to be running', 180_000, { intervalMs: 500 });
  }

  /** Graceful stops in dependency order; whatever does not stop in time is killed by the supervisor. */
  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    const { worker, api, temporal, postgres } = this.parts;
    await Promise.all([worker.stop(), api.stop()]);
    await this.temporalClient?.connection.close().catch(() => undefined);
    await this.db.destroy().catch(() => undefined);
    await temporal.stop();
    await postgres.stop();
  }
}

export { freePort };

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { temporal as proto } from '@temporalio/proto';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig, Config } from '../../src/config';
import { createDb, migrateLatest } from '../../src/db/knex';
import { SecretBox } from '../../src/domain/secret-box';
import { createKey, createOrganization } from '../../src/dev/credentials';
import { createMailer } from '../../src/mail/mailer';
import { activityDeps, createApiApp, createServices, listen, Services } from '../../src/runtime';
import { OutboxDispatcher } from '../../src/dispatch/outbox-dispatcher';
import { WorkflowSlots } from '../../src/dispatch/workflow-slots';
import { createWorker } from '../../src/worker-factory';
import { SEARCH_ATTRIBUTE_KEYS, deliveryWorkflowId } from '../../src/workflows/messages';
import { waitFor } from './wait';
import { Receiver } from './receiver';
import { installRuntime } from '../../src/temporal-connection';
import { specSecretCreatedData } from '../../src/destinations/sample-payloads';
import type { Tracing } from '../../src/tracing';
import type { Logger } from '../../src/logger';
import { workflowBundleOptions } from '../../src/workflow-bundle-file';

export interface StackOptions {
  timeSkipping?: boolean;
  smtpUrl?: string;
  env?: Record<string, string>;
  /**
   * Workers without a sticky cache. The Java test server does not hand a stopped worker's sticky tasks
   * back to the shared queue, so tests that restart a worker replay from history instead.
   */
  noStickyCache?: boolean;
  /** OpenTelemetry on: the client's and the worker's interceptors, the traced workflow bundle, spans in the API. */
  tracing?: Tracing;
  /** The process's logger (default: pino at TEST_LOG_LEVEL, silent). */
  logger?: Logger;
}

export interface Org {
  id: string;
  apiKey: string;
  serviceToken: string;
}

const bundles: { traced?: WorkerOptions['workflowBundle']; untraced?: WorkerOptions['workflowBundle'] } = {};

/**
 * The SDK gives the server 5 s to open its port, a bound it does not let us change; a JVM starting on a busy
 * machine can miss it, so a start that timed out is tried again (the JVM's files are in the page cache by then).
 */
async function startTimeSkippingServer(tries = 5): Promise<TestWorkflowEnvironment> {
  for (let i = 1; ; i++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: process.env.TEST_TIME_SKIPPING_SERVER! } },
      });
    } catch (err) {
      if (i >= tries || !/did not start within/.test((err as Error).message)) throw err;
    }
  }
}
let databases = 0;

/**
 * A whole CloudKeep Webhooks for one test file, on real parts: its own PostgreSQL database, the shared
 * dev server (or its own time-skipping server), a worker on its own task queue, and the API on loopback.
 */
export async function createStack(options: StackOptions = {}) {
  installRuntime();
  const suffix = `${process.pid}_${++databases}_${Date.now().toString(36)}`;
  const admin = createDb(process.env.TEST_POSTGRES_URL!, { min: 0, max: 1 });
  await admin.raw(`CREATE DATABASE ckw_${suffix}`);
  await admin.destroy();
  const databaseUrl = process.env.TEST_POSTGRES_URL!.replace(/\/postgres$/, `/ckw_${suffix}`);

  let env: TestWorkflowEnvironment | undefined;
  let client: Client;
  let workerConnection: NativeConnection;
  if (options.timeSkipping) {
    env = await startTimeSkippingServer();
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    client = env.client;
    workerConnection = env.nativeConnection;
  } else {
    // As in production: the client runs on the worker's NativeConnection, so starts may go eager.
    workerConnection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection: workerConnection, namespace: 'default', interceptors: options.tracing?.clientInterceptors });
  }
  const eagerStart = !options.timeSkipping;

  const config: Config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: '/tmp/ckw-test-data',
    DATABASE_URL: databaseUrl,
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
    ALLOW_PRIVATE_TARGETS: 'true',
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...options.env,
  });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const tracing = options.tracing;
  const db: Knex = createDb(databaseUrl);
  await migrateLatest(db);
  const secretBox = new SecretBox(config.secretEncryptionKey!, config.secretDecryptionKeys);
  const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, dataDir: config.dataDir, logger });
  const services: Services = createServices({ db, temporal: client, config, secretBox, logger, tracing });
  const { app, routes, openapi } = createApiApp({ db, temporal: client, config, secretBox, logger, services, tracing, publicBaseUrl: 'http://127.0.0.1' });
  const server: Server = await listen(app, '127.0.0.1', 0);
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const traced = tracing ? 'traced' : 'untraced';
  const bundle = (bundles[traced] ??= await bundleWorkflowCode({
    ...workflowBundleOptions(require.resolve('../../src/workflows'), Boolean(tracing)),
    logger: { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as never,
  }));
  let worker: Worker | null = null;
  let outbox: OutboxDispatcher | null = null;
  let running: Promise<void> | null = null;

  const stack = {
    env,
    client,
    db,
    config,
    services,
    secretBox,
    apiUrl,
    routes,
    openapi,
    taskQueue: config.temporal.taskQueue,

    /**
     * The worker and, as in every deployment, the outbox dispatcher that starts stored deliveries. `secretBox`: a
     * worker on another key ring than the API's (a process restarted mid-rotation). A test can also give the worker
     * its own way to PostgreSQL (`db`) or to Temporal for its activities and its outbox (through a proxy it can
     * break); the worker polls on the stack's connection.
     */
    async startWorker(o: { secretBox?: SecretBox; db?: Knex; activityClient?: Client; outboxClient?: Client } = {}): Promise<void> {
      const slots = new WorkflowSlots(config.dispatchMaxInFlight);
      const workerDb = o.db ?? db;
      worker = await createWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue: config.temporal.taskQueue,
        deps: activityDeps({ db: workerDb, temporal: o.activityClient ?? client, config, secretBox: o.secretBox ?? secretBox, mailer, logger, eagerStart, slots, tracing }),
        workflowBundle: bundle,
        maxCachedWorkflows: options.noStickyCache ? 0 : undefined,
        tracing: tracing?.workerOptions,
      });
      running = worker.run();
      const outboxClient = o.outboxClient ?? client;
      outbox = new OutboxDispatcher({ db: workerDb, client: outboxClient, taskQueue: config.temporal.taskQueue, logger, slots, tracing, startOptions: { eagerStart: eagerStart && outboxClient === client, deadlineMs: config.temporal.startTimeoutMs } });
      await outbox.start();
    },

    async stopWorker(): Promise<void> {
      await outbox?.stop();
      outbox = null;
      if (!worker) return;
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      worker = null;
    },

    async createOrg(name = 'Acme', email = 'owner@acme.test'): Promise<Org> {
      const id = await createOrganization(db, name, email);
      return { id, apiKey: await createKey(db, id, 'admin', 'test admin'), serviceToken: await createKey(db, id, 'service', 'test ingest') };
    },

    /** A JSON request to the API; returns status, headers and the parsed body. */
    async api(method: string, path: string, token: string | null, body?: unknown, rawBody?: string) {
      const res = await fetch(apiUrl + path, {
        method,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined || rawBody ? { 'Content-Type': 'application/json' } : {}) },
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await res.text();
      let json: any = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: json };
    },

    /** The ids of an event's deliveries, once each one's workflow has started (direct or through the fan-out). */
    async deliveryIdsFor(eventId: string): Promise<string[]> {
      const rows: { id: string }[] = await db('deliveries').where({ event_id: eventId }).select('id');
      for (const { id } of rows) {
        await waitFor(() => client.workflow.getHandle(deliveryWorkflowId(id)).describe(), `the workflow of ${id}`);
      }
      return rows.map((r) => r.id);
    },

    async close(): Promise<void> {
      await stack.stopWorker();
      await new Promise((r) => server.close(r));
      await db.destroy();
      if (env) await env.teardown();
      else await workerConnection.close();
    },
  };
  await stack.startWorker();
  return stack;
}

export type Stack = Awaited<ReturnType<typeof createStack>>;

/** The spec's example payload data for secret.created. */
export const secretCreatedData = specSecretCreatedData;

/**
 * For a test file that needs a stack, one organization and a receiver from its first test to its last: made before
 * all, handed to `set`, and stopped after all.
 */
export function withStackPerFile(set: (parts: { stack: Stack; org: Org; receiver: Receiver }) => void): void {
  let parts: { stack: Stack; org: Org; receiver: Receiver } | undefined;
  beforeAll(async () => {
    const stack = await createStack();
    parts = { stack, org: await stack.createOrg(), receiver: await new Receiver().start() };
    set(parts);
  });
  afterAll(async () => {
    await parts?.receiver.stop();
    await parts?.stack.close();
  });
}

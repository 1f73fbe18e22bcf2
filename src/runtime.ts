import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Worker } from '@temporalio/worker';
import { Config, loadConfig } from './config';
import { createDb, migrateLatest } from './db/knex';
import type { SecretBox } from './domain/secret-box';
import { createLogger, Logger } from './logger';
import { loadSecretBox } from './encryption-keys';
import { createMailer, Mailer } from './mail/mailer';
import { connectTemporal, TemporalConnection } from './temporal-connection';
import { OutboxDispatcher } from './dispatch/outbox-dispatcher';
import { WorkflowSlots } from './dispatch/workflow-slots';
import { EventService } from './services/events';
import { WebhookService } from './services/webhooks';
import { DeliveryService } from './services/deliveries';
import { RecoveryService } from './services/recoveries';
import { ApiKeyService } from './services/api-keys';
import { createApp } from './api/app';
import { integrationExtraRoutes } from './api/routes/integrations';
import { createWorker } from './worker-factory';
import { ensureWorkflowBundle } from './workflow-bundle-cache';
import { API_DRAIN_DEADLINE_MS, Drain } from './api/drain';
import { prebuiltWorkflowBundlePath } from './workflow-bundle-file';
import { ensureLogRetentionSchedule } from './services/retention-schedule';
import type { ActivityDeps } from './activities';
import { startTracing, Tracing } from './tracing';
import { API_STOP_DEADLINE_MS, CLOSE_MS, OUTBOX_STOP_MS, runStop, StopStep, WORKER_SHUTDOWN_FORCE_MS, WORKER_STOP_DEADLINE_MS } from './shutdown';
import { within } from './time-limit';
import { serveMetrics } from './metrics';

export const DEV_DATABASE = 'cloudkeep_webhooks';



/** Running from dist/, where `npm run build` left the workflow bundles beside the entry points. */
const hasPrebuiltWorkflowBundle = (traced = false) => fs.existsSync(prebuiltWorkflowBundlePath(undefined, traced));


export interface Services {
  events: EventService;
  webhooks: WebhookService;
  deliveries: DeliveryService;
  recoveries: RecoveryService;
  apiKeys: ApiKeyService;
}

/** The business logic the API's routes call (and the tests drive directly). */
export function createServices(o: { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; logger: Logger; tracing?: Tracing }): Services {
  const { db, temporal, config, secretBox, logger, tracing } = o;
  const taskQueue = config.temporal.taskQueue;
  return {
    events: new EventService(db, tracing),
    webhooks: new WebhookService({ db, temporal, taskQueue, secretBox, logger, outbound: config.outbound, production: config.production, tracing }),
    deliveries: new DeliveryService(db, temporal, taskQueue, { baseUrl: config.temporal.uiUrl, namespace: config.temporal.namespace }),
    // The Delivery Log's retention bounds how far back a recovery may reach.
    recoveries: new RecoveryService({ db, temporal, taskQueue, logRetentionDays: config.logRetentionDays, temporalUi: { baseUrl: config.temporal.uiUrl, namespace: config.temporal.namespace } }),
    apiKeys: new ApiKeyService(db),
  };
}

export function activityDeps(o: { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; mailer: Mailer; logger: Logger; eagerStart?: boolean; slots?: WorkflowSlots; tracing?: Tracing }): ActivityDeps {
  return {
    db: o.db,
    slots: o.slots,
    tracing: o.tracing,
    temporal: o.temporal,
    secretBox: o.secretBox,
    mailer: o.mailer,
    logger: o.logger,
    config: { taskQueue: o.config.temporal.taskQueue, outbound: o.config.outbound, publicBaseUrl: o.config.http.publicBaseUrl, eagerStart: o.eagerStart },
  };
}

type RuntimeParts = { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; logger: Logger; services: Services; tracing?: Tracing };

/** The API with every route, integrations included: one construction for `npm start`, `npm run api` and the tests. */
export function createApiApp(o: RuntimeParts & { publicBaseUrl?: string; isDraining?: () => boolean }) {
  const { db, temporal, config, secretBox, logger, services } = o;
  return createApp({
    db,
    temporal,
    ...services,
    logger,
    tracing: o.tracing,
    publicBaseUrl: o.publicBaseUrl ?? config.http.publicBaseUrl,
    isDraining: o.isDraining,
    rateLimits: config.rateLimits,
    extraRoutes: integrationExtraRoutes({ db, config, secretBox, webhooks: services.webhooks }),
  });
}

/**
 * The worker (workflows and activities) and the outbox dispatcher that starts stored deliveries on the worker's
 * own connection, eagerly, as fast as its workflow-task slots free up. Returns what stops both.
 */
export async function startWorker(o: Omit<RuntimeParts, 'services'> & { connection: TemporalConnection; mailer: Mailer }): Promise<() => Promise<void>> {
  const { db, temporal, config, secretBox, logger, mailer, tracing } = o;
  const slots = new WorkflowSlots(config.dispatchMaxInFlight);
  const traced = Boolean(tracing);
  const worker: Worker = await createWorker({
    connection: o.connection.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: activityDeps({ db, temporal, config, secretBox, mailer, logger, eagerStart: true, slots, tracing }),
    // `npm run build`'s bundle when running from dist/, else one built from source in a child process and cached;
    // with tracing on, the one with the tracing interceptors.
    workflowBundle: {
      codePath: hasPrebuiltWorkflowBundle(traced) ? prebuiltWorkflowBundlePath(undefined, traced) : ensureWorkflowBundle(path.join(config.dataDir, 'cache'), traced),
    },
    tracing: tracing?.workerOptions,
  });
  o.connection.attachWorker(worker); // it follows the connection when the mTLS certificate is rotated
  const running = worker.run();
  // Deliveries matter more than pruning: a schedule Temporal refuses is logged loudly, and the worker carries on.
  await ensureLogRetentionSchedule(temporal, { taskQueue: config.temporal.taskQueue, retentionDays: config.logRetentionDays }).catch((err) =>
    logger.error({ err: err.message }, 'Delivery Log retention schedule not created: old deliveries will not be pruned'),
  );
  const outbox = new OutboxDispatcher({ db, client: temporal, taskQueue: config.temporal.taskQueue, logger, slots, tracing, startOptions: { eagerStart: true, deadlineMs: config.temporal.startTimeoutMs } });
  await outbox.start();
  return async () => {
    // A claim in progress commits or rolls back; one stuck on a database that does not answer is left to its
    // transaction, which dies with the process (its events stay in the outbox).
    await within(outbox.stop(), OUTBOX_STOP_MS, 'the outbox').catch((err: Error) => logger.warn({ err: err.message }, 'outbox not stopped; leaving its claim'));
    if (worker.getState() === 'RUNNING') worker.shutdown(); // a worker that failed has already stopped
    // The SDK gives up on what still runs at its force time; its own clean-up may still wait on it, hence the bound.
    await within(running, WORKER_SHUTDOWN_FORCE_MS + 1_000, 'the worker').catch((err: Error) =>
      logger.warn({ err: err.message }, 'worker stop forced: attempts still running were left to Temporal, which runs them again on the next worker'),
    );
  };
}

export function listen(app: import('express').Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}

/** Starts the worker or the API alone (`npm run worker`, `npm run api`), by default against a running `npm start` stack. */
export async function runStandalone(role: 'worker' | 'api'): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config.tracing);
  const logger = createLogger(config.logLevel, tracing);
  tracing?.logErrorsTo(logger);
  const databaseUrl = config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.postgresPort}/${DEV_DATABASE}`;
  const temporalOptions = { ...config.temporal, address: config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}` };
  const db = createDb(databaseUrl);
  await migrateLatest(db);
  const connection = await connectTemporal(temporalOptions, { logger, interceptors: tracing?.clientInterceptors });
  const temporal = connection.client;
  const secretBox = loadSecretBox(config);
  let stopRole: StopStep;

  if (role === 'worker') {
    const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, dataDir: config.dataDir, logger });
    const stopWorker = await startWorker({ db, temporal, config, secretBox, logger, mailer, connection, tracing });
    const metrics = config.workerMetricsPort === undefined ? null : await serveMetrics(config.http.host, config.workerMetricsPort);
    stopRole = {
      name: 'the worker',
      run: async () => {
        await stopWorker();
        metrics?.closeAllConnections();
        if (metrics) await new Promise((resolve) => metrics.close(resolve));
      },
    };
    const workflowCode = `${hasPrebuiltWorkflowBundle(Boolean(tracing)) ? 'prebuilt bundle' : 'bundled from source (cached)'}${tracing ? ', traced' : ''}`;
    const metricsUrl = metrics ? `http://${config.http.host}:${config.workerMetricsPort}/metrics` : null;
    logger.info({ taskQueue: config.temporal.taskQueue, workflowCode, tracing: Boolean(tracing), metrics: metricsUrl }, 'worker running');
  } else {
    const services = createServices({ db, temporal, config, secretBox, logger, tracing });
    const drain = new Drain();
    const { app } = createApiApp({ db, temporal, config, secretBox, logger, services, tracing, isDraining: () => drain.draining });
    const server = await listen(app, config.http.host, config.http.port);
    stopRole = {
      name: 'the API\'s requests in flight',
      run: async () => {
        logger.info({ readinessDelayMs: config.shutdown.readinessDelayMs }, 'API draining: /readyz answers 503, in-flight requests finish');
        await drain.close(server, { readinessDelayMs: config.shutdown.readinessDelayMs, deadlineMs: API_DRAIN_DEADLINE_MS });
      },
    };
    logger.info({ tracing: Boolean(tracing) }, `API listening on ${config.http.publicBaseUrl}`);
  }
  const stop = async () => {
    logger.info(`${role} shutting down`);
    // The API drains or the worker stops, then the shared Temporal connection and the pool close: each bounded, and
    // the whole within the process's deadline (src/shutdown.ts).
    await runStop(
      [
        stopRole,
        { name: 'the Temporal connection', run: () => connection.close(), timeoutMs: CLOSE_MS },
        { name: 'the database pool', run: () => db.destroy(), timeoutMs: CLOSE_MS },
        // Last: the spans of the shutdown itself are sent.
        ...(tracing ? [{ name: 'tracing', run: () => tracing.shutdown(), timeoutMs: CLOSE_MS }] : []),
      ],
      { deadlineMs: role === 'worker' ? WORKER_STOP_DEADLINE_MS : config.shutdown.readinessDelayMs + API_STOP_DEADLINE_MS, logger },
    );
    logger.info(`${role} stopped`);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Worker } from '@temporalio/worker';
import { Config, loadConfig } from './config';
import { createDb, migrateLatest } from './db/knex';
import { SecretBox } from './domain/secret-box';
import { createLogger, Logger } from './logger';
import { createMailer, Mailer } from './mail/mailer';
import { connectClient, connectWorker } from './temporal-connection';
import { EventDispatcher } from './services/dispatcher';
import { EventService } from './services/events';
import { WebhookService } from './services/webhooks';
import { DeliveryService } from './services/deliveries';
import { ApiKeyService } from './services/api-keys';
import { createApp } from './api/app';
import { integrationExtraRoutes } from './api/routes/integrations';
import { createWorker } from './worker-factory';
import type { ActivityDeps } from './activities';

export const DEV_DATABASE = 'cloudkeep_webhooks';

/** The secret-encryption key: from the environment, or in development a key generated once under .data/. */
export function loadSecretBox(config: Config): SecretBox {
  if (config.secretEncryptionKey) return new SecretBox(config.secretEncryptionKey);
  const file = path.join(config.dataDir, 'secret-encryption.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, SecretBox.generateKey() + '\n', { mode: 0o600 });
  }
  return new SecretBox(fs.readFileSync(file, 'utf8').trim());
}

export interface Services {
  dispatcher: EventDispatcher;
  events: EventService;
  webhooks: WebhookService;
  deliveries: DeliveryService;
  apiKeys: ApiKeyService;
}

export function createServices(o: { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; logger: Logger }): Services {
  const { db, temporal, config, secretBox, logger } = o;
  const taskQueue = config.temporal.taskQueue;
  const dispatcher = new EventDispatcher(db, temporal, taskQueue, logger);
  return {
    dispatcher,
    events: new EventService(db, dispatcher),
    webhooks: new WebhookService({ db, temporal, taskQueue, secretBox, dispatcher, outbound: config.outbound, production: config.production }),
    deliveries: new DeliveryService(db, temporal, taskQueue, { baseUrl: config.temporal.uiUrl, namespace: config.temporal.namespace }),
    apiKeys: new ApiKeyService(db),
  };
}

export function activityDeps(o: { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; mailer: Mailer; logger: Logger }): ActivityDeps {
  return {
    db: o.db,
    temporal: o.temporal,
    secretBox: o.secretBox,
    mailer: o.mailer,
    logger: o.logger,
    config: { taskQueue: o.config.temporal.taskQueue, outbound: o.config.outbound, publicBaseUrl: o.config.http.publicBaseUrl },
  };
}

type RuntimeParts = { db: Knex; temporal: Client; config: Config; secretBox: SecretBox; logger: Logger; services: Services };

/** The API with every route, integrations included: one construction for `npm start`, `npm run api` and the tests. */
export function createApiApp(o: RuntimeParts & { publicBaseUrl?: string }) {
  const { db, temporal, config, secretBox, logger, services } = o;
  return createApp({
    db,
    temporal,
    ...services,
    logger,
    publicBaseUrl: o.publicBaseUrl ?? config.http.publicBaseUrl,
    rateLimits: config.rateLimits,
    extraRoutes: integrationExtraRoutes({ db, config, secretBox, webhooks: services.webhooks }),
  });
}

/**
 * The worker (workflows and activities) and the dispatch sweep that re-sends events a crash left
 * undispatched (once now, then every 30 s). Returns what stops both.
 */
export async function startWorker(o: RuntimeParts & { temporalAddress: string; mailer: Mailer }): Promise<() => Promise<void>> {
  const { db, temporal, config, secretBox, logger, services, mailer } = o;
  const worker: Worker = await createWorker({
    connection: await connectWorker({ ...config.temporal, address: o.temporalAddress }),
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: activityDeps({ db, temporal, config, secretBox, mailer, logger }),
  });
  const running = worker.run();
  const sweep = () => services.dispatcher.sweep().catch((err) => logger.error({ err: err.message }, 'sweep failed'));
  const timer = setInterval(sweep, 30_000);
  await services.dispatcher.sweep(0);
  return async () => {
    clearInterval(timer);
    if (worker.getState() === 'RUNNING') worker.shutdown(); // a worker that failed has already stopped
    await running;
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
  const logger = createLogger(config.logLevel);
  const databaseUrl = config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.postgresPort}/${DEV_DATABASE}`;
  const temporalOptions = { ...config.temporal, address: config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}` };
  const db = createDb(databaseUrl);
  await migrateLatest(db);
  const temporal = await connectClient(temporalOptions);
  const secretBox = loadSecretBox(config);
  const closers: (() => Promise<unknown>)[] = [];

  const services = createServices({ db, temporal, config, secretBox, logger });
  if (role === 'worker') {
    const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, dataDir: config.dataDir, logger });
    closers.push(await startWorker({ db, temporal, config, secretBox, logger, services, mailer, temporalAddress: temporalOptions.address }));
    logger.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  } else {
    const { app } = createApiApp({ db, temporal, config, secretBox, logger, services });
    const server = await listen(app, config.http.host, config.http.port);
    closers.push(() => new Promise((r) => server.close(r)));
    logger.info(`API listening on ${config.http.publicBaseUrl}`);
  }
  const stop = async () => {
    for (const close of closers.reverse()) await close();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

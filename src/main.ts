/**
 * `npm start`: the whole system on embedded defaults — a Temporal dev server (Web UI included) and a
 * real PostgreSQL unless TEMPORAL_ADDRESS / DATABASE_URL say otherwise, then the worker and the API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { createDb, migrateLatest } from './db/knex';
import { createLogger } from './logger';
import { createMailer } from './mail/mailer';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './dev/postgres';
import { ensureTemporalCli } from './dev/temporal-cli';
import { startTemporalDevServer } from './dev/temporal-dev-server';
import { ensureDevCredentials } from './dev/credentials';
import { connectTemporal } from './temporal-connection';
import { applyNamespaceRetention } from './services/retention-schedule';
import { createApiApp, createServices, DEV_DATABASE, listen, startWorker } from './runtime';
import { loadSecretBox } from './encryption-keys';
import { startTracing } from './tracing';
import { traceableUrl } from './tracing/attributes';
import { API_DRAIN_DEADLINE_MS, Drain } from './api/drain';
import { ALL_IN_ONE_STOP_DEADLINE_MS, CLOSE_MS, runStop, StopStep } from './shutdown';

const killQuietly = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

async function main(): Promise<void> {
  const config = loadConfig();
  // Before the logger and the Temporal client, which it instruments; nothing at all when tracing is off.
  const tracing = startTracing(config.tracing);
  const logger = createLogger(config.logLevel, tracing);
  tracing?.logErrorsTo(logger);
  const say = (line: string) => console.log(line);
  fs.mkdirSync(config.dataDir, { recursive: true });
  // Started parts, stopped last first: each bounded, the whole within the worker's 15 s plus the API's drain.
  // Stopped last (the list runs backwards): the shutdown's own spans are sent.
  const stops: StopStep[] = tracing ? [{ name: 'tracing', run: () => tracing.shutdown(), timeoutMs: CLOSE_MS }] : [];
  /** Child processes that must not outlive a stop its deadline cut short. */
  const children: number[] = [];
  const stopAll = () =>
    runStop([...stops].reverse(), {
      deadlineMs: config.shutdown.readinessDelayMs + ALL_IN_ONE_STOP_DEADLINE_MS,
      logger,
      onDeadline: () => children.forEach((pid) => killQuietly(pid)),
    });
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping…');
    void stopAll().then(() => process.exit(0));
  };
  // Ctrl-C, a stop, or the terminal closing. The servers below run in process groups of their own, so the terminal's
  // signal reaches only this process, which stops them after the API and the worker are done with them.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      say(`Starting PostgreSQL (embedded, data in ${path.join(config.dataDir, 'postgres')})…`);
      const pg = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), port: config.postgresPort, notice: say, log: (l) => logger.debug(l), ownProcessGroup: true });
      stops.push({ name: 'PostgreSQL', run: () => pg.stop(), timeoutMs: 10_000 });
      await pg.createDatabase(DEV_DATABASE);
      databaseUrl = pg.url(DEV_DATABASE);
    }

    let temporalAddress = config.temporal.address;
    let uiUrl = config.temporal.uiUrl;
    if (!temporalAddress) {
      const cliPath = await ensureTemporalCli({ explicitPath: config.temporal.cliPath, log: say });
      say(`Starting the Temporal dev server (${cliPath}, history in ${path.join(config.dataDir, 'temporal.db')})…`);
      const server = await startTemporalDevServer({
        cliPath,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.devServerUiPort,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        namespace: config.temporal.namespace,
        log: (l) => logger.debug(l),
        ownProcessGroup: true,
      });
      stops.push({ name: 'the Temporal dev server', run: () => server.stop() });
      children.push(server.pid);
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
    }
    const temporalOptions = { ...config.temporal, address: temporalAddress, uiUrl };
    const runtimeConfig = { ...config, temporal: temporalOptions };

    const db = createDb(databaseUrl);
    stops.push({ name: 'the database pool', run: () => db.destroy(), timeoutMs: CLOSE_MS });
    await migrateLatest(db);
    const connection = await connectTemporal(temporalOptions, { logger, interceptors: tracing?.clientInterceptors });
    const temporal = connection.client;
    stops.push({ name: 'the Temporal connection', run: () => connection.close(), timeoutMs: CLOSE_MS });
    // The dev server's namespace is ours: keep histories as long as the Delivery Log keeps its rows.
    if (!config.temporal.address) await applyNamespaceRetention(temporal.connection, config.temporal.namespace, config.logRetentionDays);
    const secretBox = loadSecretBox(config);
    const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, dataDir: config.dataDir, logger });

    // The worker drains the outbox ingest writes to, starting deliveries eagerly on this connection.
    const services = createServices({ db, temporal, config: runtimeConfig, secretBox, logger, tracing });
    const stopWorker = await startWorker({ db, temporal, config: runtimeConfig, secretBox, logger, mailer, connection, tracing });
    // The API (once listening) drains its requests in flight while the worker stops.
    const api: { drain?: () => Promise<unknown> } = {};
    stops.push({ name: 'the API and the worker', run: () => Promise.all([api.drain?.(), stopWorker()]) });
    const drain = new Drain();
    const { app } = createApiApp({ db, temporal, config: runtimeConfig, secretBox, logger, services, tracing, isDraining: () => drain.draining });
    const server = await listen(app, config.http.host, config.http.port);
    api.drain = () => drain.close(server, { readinessDelayMs: config.shutdown.readinessDelayMs, deadlineMs: API_DRAIN_DEADLINE_MS });

    const credentials = config.production ? null : await ensureDevCredentials(db, config.dataDir);
    const base = config.http.publicBaseUrl;
    say('');
    say('CloudKeep Webhooks is running.');
    say(`  API            ${base}`);
    say(`  API docs       ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
    say(`  Settings page  ${base}/settings/`);
    say(`  Temporal UI    ${uiUrl}`);
    say(`  Temporal       ${temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`);
    say(`  PostgreSQL     ${config.databaseUrl ? 'DATABASE_URL' : databaseUrl.replace(/:[^:@/]+@/, ':****@')}`);
    say(`  Mail           ${mailer.describe()}`);
    if (tracing) say(`  Tracing        OpenTelemetry, OTLP ${config.tracing.protocol} to ${traceableUrl(config.tracing.endpoint ?? '')}`);
    if (credentials) say(`  Credentials    ${credentials.file}${credentials.created ? ' (created now)' : ''}`);
    say('Press Ctrl-C to stop.');
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof EmbeddedPostgresError ? err.message : err);
    await stopAll();
    process.exit(1);
  }
}

void main();

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
import { createApiApp, createServices, DEV_DATABASE, listen, loadSecretBox, startWorker } from './runtime';
import { startTracing } from './tracing';
import { traceableUrl } from './tracing/attributes';

async function main(): Promise<void> {
  const config = loadConfig();
  // Before the logger and the Temporal client, which it instruments; nothing at all when tracing is off.
  const tracing = startTracing(config.tracing);
  const logger = createLogger(config.logLevel, tracing);
  tracing?.logErrorsTo(logger);
  const say = (line: string) => console.log(line);
  fs.mkdirSync(config.dataDir, { recursive: true });
  // Stopped last (the list runs backwards): the shutdown's own spans are sent.
  const stops: (() => Promise<unknown>)[] = tracing ? [() => tracing.shutdown()] : [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.error({ err: err.message }, 'shutdown step failed'));
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping…');
    stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      say(`Starting PostgreSQL (embedded, data in ${path.join(config.dataDir, 'postgres')})…`);
      const pg = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), port: config.postgresPort, notice: say, log: (l) => logger.debug(l) });
      stops.push(() => pg.stop());
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
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      uiUrl = server.uiUrl;
    }
    const temporalOptions = { ...config.temporal, address: temporalAddress, uiUrl };
    const runtimeConfig = { ...config, temporal: temporalOptions };

    const db = createDb(databaseUrl);
    stops.push(() => db.destroy());
    await migrateLatest(db);
    const connection = await connectTemporal(temporalOptions, { logger, interceptors: tracing?.clientInterceptors });
    const temporal = connection.client;
    stops.push(() => connection.close());
    // The dev server's namespace is ours: keep histories as long as the Delivery Log keeps its rows.
    if (!config.temporal.address) await applyNamespaceRetention(temporal.connection, config.temporal.namespace, config.logRetentionDays);
    const secretBox = loadSecretBox(config);
    const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, dataDir: config.dataDir, logger });

    // The worker drains the outbox ingest writes to, starting deliveries eagerly on this connection.
    const services = createServices({ db, temporal, config: runtimeConfig, secretBox, logger, tracing });
    stops.push(await startWorker({ db, temporal, config: runtimeConfig, secretBox, logger, mailer, connection, tracing }));
    const { app } = createApiApp({ db, temporal, config: runtimeConfig, secretBox, logger, services, tracing });
    const server = await listen(app, config.http.host, config.http.port);
    stops.push(() => new Promise((r) => server.close(r)));

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

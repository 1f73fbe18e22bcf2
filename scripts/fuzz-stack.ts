/**
 * The API for `scripts/fuzz-api.sh`: embedded PostgreSQL, the cached Temporal dev server and the API, each on
 * a free loopback port, plus one organization. No worker runs, so the webhooks the fuzzer creates are never
 * called: nothing leaves the machine. Writes {url, apiKey, serviceToken} to the file named by argv[2] once
 * ready, and stops everything on SIGTERM/SIGINT.
 *
 *   node --import tsx scripts/fuzz-stack.ts /tmp/stack.json
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { SecretBox } from '../src/domain/secret-box';
import { createKey, createOrganization } from '../src/dev/credentials';
import { startEmbeddedPostgres } from '../src/dev/postgres';
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server';
import { createLogger } from '../src/logger';
import { connectTemporal } from '../src/temporal-connection';
import { createApiApp, createServices, listen } from '../src/runtime';
import { freePort } from '../src/dev/ports';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: fuzz-stack.ts <credentials file>');
  // Beside the credentials file, so the caller's clean-up removes it even if this process is cut short.
  const dir = fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), 'stack-'));
  fs.chmodSync(dir, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => console.error(`stop failed: ${err.message}`));
    console.log('fuzz stack stopped');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort() });
    stops.push(() => pg.stop());
    await pg.createDatabase('ckw_fuzz');
    const cliPath = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log: console.log });
    const temporalServer = await startTemporalDevServer({ cliPath, port: await freePort(), uiPort: null });
    stops.push(() => temporalServer.stop());
    // Slack's oauth.v2.access, so "Connect to Slack" works end to end (its webhook is never called: no worker).
    const fakeSlack = http.createServer((req, res) => {
      req.resume();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ok: true, incoming_webhook: { url: 'https://hooks.slack.com/services/T0/B0/fuzz', channel: '#fuzz' } }));
    });
    const slackPort = await freePort();
    await new Promise<void>((resolve) => fakeSlack.listen(slackPort, '127.0.0.1', resolve));
    stops.push(() => new Promise((r) => fakeSlack.close(r)));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const config = loadConfig({
      NODE_ENV: 'development',
      DATA_DIR: dir,
      DATABASE_URL: pg.url('ckw_fuzz'),
      TEMPORAL_ADDRESS: temporalServer.address,
      SECRET_ENCRYPTION_KEY: SecretBox.generateKey(),
      ALLOW_PRIVATE_TARGETS: 'true',
      SLACK_CLIENT_ID: 'fuzz',
      SLACK_CLIENT_SECRET: 'fuzz',
      SLACK_REDIRECT_URL: `${url}/v1/integrations/slack/callback`,
      SLACK_API_URL: `http://127.0.0.1:${slackPort}/api`,
      // The fuzzer sends thousands of requests, many deliberately unauthenticated: the limits are tested elsewhere.
      RATE_LIMIT_PER_MINUTE: '1000000',
      INGEST_RATE_LIMIT_PER_SECOND: '1000000',
      INGEST_RATE_LIMIT_BURST: '1000000',
      AUTH_FAILURE_LIMIT_PER_MINUTE: '1000000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    });
    const logger = createLogger(config.logLevel);
    const db = createDb(config.databaseUrl!);
    stops.push(() => db.destroy());
    await migrateLatest(db);
    // Not closed on stop: closing it under a call the client is still retrying throws from a timer and kills the
    // process before PostgreSQL is stopped. The process exits right after the clean-up anyway.
    const { client: temporal } = await connectTemporal({ ...config.temporal, address: temporalServer.address });
    const secretBox = new SecretBox(config.secretEncryptionKey!);
    const services = createServices({ db, temporal, config, secretBox, logger });
    const { app } = createApiApp({ db, temporal, config, secretBox, logger, services, publicBaseUrl: url });
    const server = await listen(app, '127.0.0.1', port);
    stops.push(() => new Promise((r) => server.close(r)));

    const organizationId = await createOrganization(db, 'Fuzz', 'fuzz@localhost');
    const credentials = { url, apiKey: await createKey(db, organizationId, 'admin', 'fuzz admin'), serviceToken: await createKey(db, organizationId, 'service', 'fuzz ingest') };
    fs.writeFileSync(out, JSON.stringify(credentials), { mode: 0o600 });
    console.log(`fuzz stack ready at ${url}`);
  } catch (err) {
    console.error(err);
    await stopAll();
    process.exit(1);
  }
}

void main();

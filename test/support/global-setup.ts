import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/dev/postgres';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server';
import { ensureTestServer } from '../../scripts/prepare-test-servers';
import { freePort } from '../../src/dev/ports';


/** One real PostgreSQL and one Temporal dev server for the whole run; each suite takes its own database and task queue. */
export default async function globalSetup(): Promise<void> {
  // Failures the tests cause on purpose (SMTP down, endpoints refusing) are asserted, not printed: the SDK's own
  // warnings about them stay quiet unless TEMPORAL_LOG_LEVEL asks for them.
  process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
  // The SDK's core (1.24.0) panics harmlessly when a retried local activity's stale start-to-close timer fires after
  // its worker has stopped (temporalio/sdk-rust#1465), as the outage tests' workers do: its one-line message stays,
  // the backtrace a host-wide RUST_BACKTRACE=1 would add does not. Read by Rust at the first panic, from the process's
  // environment, which this process (running the suites in band) shares.
  process.env.RUST_BACKTRACE = '0';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckw-test-'));
  fs.chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port: await freePort() });
  const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log: console.log });
  const temporal = await startTemporalDevServer({ cliPath: cli, port: await freePort(), uiPort: null });
  process.env.TEST_POSTGRES_URL = pg.url();
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_TIME_SKIPPING_SERVER = ensureTestServer(console.log);
  (globalThis as Record<string, unknown>).__ckwStack = { pg, temporal, dir };
}

export { freePort };

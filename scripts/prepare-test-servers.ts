/**
 * Before `jest`: makes sure both Temporal servers the tests use are on this machine, once per user.
 * - the Temporal CLI dev server (found, downloaded or built with Go: see src/dev/temporal-cli.ts);
 * - the time-skipping test server, a Java program fetched from Maven Central with temporal/test-server/pom.xml
 *   and wrapped in an executable that the SDK's TestWorkflowEnvironment runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../src/dev/temporal-cli';

const POM = path.resolve(__dirname, '../temporal/test-server/pom.xml');

export function testServerVersion(): string {
  return /<temporal\.test-server\.version>([^<]+)</.exec(fs.readFileSync(POM, 'utf8'))![1];
}

export function testServerPaths() {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'cloudkeep-webhooks', `temporal-test-server-${testServerVersion()}`);
  return { dir, lib: path.join(dir, 'lib'), executable: path.join(dir, 'temporal-test-server') };
}

export function ensureTestServer(log: (line: string) => void): string {
  const { dir, lib, executable } = testServerPaths();
  if (fs.existsSync(executable)) return executable;
  log(`Fetching Temporal's time-skipping test server ${testServerVersion()} with Maven into ${dir}…`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${lib}`], { stdio: 'inherit' });
  // Written last and atomically: its presence means the jars are complete.
  const script = `#!/bin/sh\n# Temporal time-skipping test server: <port> [--enable-time-skipping]\nexec java -Xss2m -cp "${lib}/*" io.temporal.testserver.TestServer "$@"\n`;
  fs.writeFileSync(`${executable}.tmp`, script, { mode: 0o755 });
  fs.renameSync(`${executable}.tmp`, executable);
  return executable;
}

async function main() {
  const log = (line: string) => console.log(line);
  const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
  const testServer = ensureTestServer(log);
  log(`Temporal CLI: ${cli}\nTime-skipping test server: ${testServer}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

/**
 * Before `jest`: makes sure both Temporal servers the tests use are on this machine, once per user.
 * - the Temporal CLI dev server (found, downloaded or built with Go: see src/dev/temporal-cli.ts);
 * - Chromium for the page tests (Debian's package);
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

/**
 * The wrapper the SDK runs. The SDK gives the server 5 s to open its port, so the JVM is told to start fast: the
 * quick JIT tier only, the serial collector, and class data sharing.
 */
function wrapperScript(lib: string): string {
  const flags = '-Xss2m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -XX:CICompilerCount=1';
  return `#!/bin/sh\n# Temporal time-skipping test server: <port> [--enable-time-skipping]\nexec java ${flags} -cp "${lib}/*" io.temporal.testserver.TestServer "$@"\n`;
}

export function ensureTestServer(log: (line: string) => void): string {
  const { dir, lib, executable } = testServerPaths();
  if (fs.existsSync(executable)) {
    // Jars complete; refresh the wrapper if this version of the project starts the JVM differently.
    if (fs.readFileSync(executable, 'utf8') !== wrapperScript(lib)) writeAtomically(executable, wrapperScript(lib));
    return executable;
  }
  log(`Fetching Temporal's time-skipping test server ${testServerVersion()} with Maven into ${dir}…`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${lib}`], { stdio: 'inherit' });
  // Written last and atomically: its presence means the jars are complete.
  writeAtomically(executable, wrapperScript(lib));
  return executable;
}

function writeAtomically(file: string, content: string): void {
  fs.writeFileSync(`${file}.tmp`, content, { mode: 0o755 });
  fs.renameSync(`${file}.tmp`, file);
}

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser the page tests drive: CHROMIUM_PATH, else Debian's Chromium. */
export function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, ...CHROMIUM_CANDIDATES].find((p) => p && fs.existsSync(p));
  if (!found) throw new Error('No Chromium found: run `apt-get install chromium` or set CHROMIUM_PATH');
  return found;
}

/** Installs Debian's Chromium when it is missing and we may (root with apt-get), as CI does. */
function ensureChromium(log: (line: string) => void): string {
  try {
    return chromiumPath();
  } catch (err) {
    if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) throw err;
    log('Installing Chromium from Debian for the page tests (apt-get install chromium)…');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'], { stdio: 'inherit' });
    return chromiumPath();
  }
}

async function main() {
  const log = (line: string) => console.log(line);
  const cli = await ensureTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, log });
  const testServer = ensureTestServer(log);
  const browser = ensureChromium(log);
  log(`Temporal CLI: ${cli}\nTime-skipping test server: ${testServer}\nChromium: ${browser}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

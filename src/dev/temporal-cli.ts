import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const execFileAsync = promisify(execFile);

/** One build per user, shared by every clone: it takes minutes, so it is never redone. */
export function cachedCliPath(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'cloudkeep-webhooks', `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

async function onPath(): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', 'command -v temporal']);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

async function download(target: string, log: (line: string) => void): Promise<boolean> {
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const url = `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${process.platform}&arch=${arch}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
    if (!res.ok) return false;
    const archive = path.join(path.dirname(target), 'temporal.tar.gz');
    fs.writeFileSync(archive, Buffer.from(await res.arrayBuffer()));
    await execFileAsync('tar', ['-xzf', archive, '-C', path.dirname(target), 'temporal']);
    fs.rmSync(archive);
    log(`Downloaded the Temporal CLI ${TEMPORAL_CLI_VERSION}`);
    return fs.existsSync(target);
  } catch {
    return false;
  }
}

/** `go install` into the cache folder, with a progress line every 15 s while it builds. */
async function build(target: string, log: (line: string) => void): Promise<void> {
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${path.dirname(target)} (first time only; a few minutes on 2 cores)…`);
  const started = Date.now();
  const tick = setInterval(() => log(`  …still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
        env: { ...process.env, GOBIN: path.dirname(target), GOFLAGS: '-mod=mod' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      child.on('error', (err) => reject(new Error(`Could not run go (${err.message}); install Go or set TEMPORAL_CLI_PATH`)));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install failed (${code}):\n${stderr}`))));
    });
  } finally {
    clearInterval(tick);
  }
  log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cache, then a download, then a Go build. */
export async function ensureTemporalCli(options: { explicitPath?: string; log: (line: string) => void }): Promise<string> {
  if (options.explicitPath) {
    if (!fs.existsSync(options.explicitPath)) throw new Error(`TEMPORAL_CLI_PATH points to ${options.explicitPath}, which does not exist`);
    return options.explicitPath;
  }
  const fromPath = await onPath();
  if (fromPath) return fromPath;
  const target = cachedCliPath();
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Two clones starting at once must not build twice: the first takes the lock, the other waits.
  const lock = `${target}.lock`;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (fs.existsSync(target)) return target;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 20 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    if (!fs.existsSync(target) && !(await download(target, options.log))) await build(target, options.log);
    return target;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

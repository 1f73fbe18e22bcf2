import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** `~/.cache/cloudkeep-webhooks/<name>`: one build per user, shared by every clone. */
export function cacheDir(name: string): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'cloudkeep-webhooks', name);
}

/**
 * Runs `produce` unless `done()` already holds. Two clones starting at once must not build twice:
 * the first takes the lock (a folder), the other waits and then finds the result.
 */
export async function withBuildLock<T>(lock: string, done: () => T | null, produce: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const ready = done();
      if (ready) return ready;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 20 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return done() ?? (await produce());
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** `go install <packages>` into `gobin` through the Go module proxy, with a progress line every 15 s. */
export async function goInstall(options: { label: string; packages: string[]; gobin: string; log: (line: string) => void }): Promise<void> {
  const { label, log } = options;
  log(`Building ${label} with Go into ${options.gobin} (first time only; a few minutes on 2 cores)…`);
  const started = Date.now();
  const tick = setInterval(() => log(`  …still building ${label} (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', ...options.packages], {
        env: { ...process.env, GOBIN: options.gobin, GOFLAGS: '-mod=mod' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      child.on('error', (err) => reject(new Error(`Could not run go (${err.message}); install Go to build ${label}`)));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install failed (${code}):\n${stderr}`))));
    });
  } finally {
    clearInterval(tick);
  }
  log(`Built ${label} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Where Go keeps downloaded modules: the module proxy's sources, schema files included. */
export async function goModuleCache(): Promise<string> {
  const { stdout } = await execFileAsync('go', ['env', 'GOMODCACHE']);
  return stdout.trim();
}

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, goInstall, withBuildLock } from './go-build';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const execFileAsync = promisify(execFile);

/** One build per user, shared by every clone: it takes minutes, so it is never redone. */
export function cachedCliPath(): string {
  return path.join(cacheDir(`temporal-cli-${TEMPORAL_CLI_VERSION}`), 'temporal');
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
  return withBuildLock(
    `${target}.lock`,
    () => (fs.existsSync(target) ? target : null),
    async () => {
      if (!(await download(target, options.log))) {
        await goInstall({ label: `the Temporal CLI ${TEMPORAL_CLI_VERSION}`, packages: [`github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], gobin: path.dirname(target), log: options.log });
      }
      return target;
    },
  );
}

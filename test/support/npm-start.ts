import { ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait';

export interface NpmStart {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output: () => string;
  stderr: () => string;
}

/**
 * `npm start` as a user runs it (src/main.ts through tsx) in `cwd` with exactly `env`, waited on until its banner
 * says it is ready or it exits (check `child.exitCode`). In a process group of its own, as a terminal runs it.
 */
export async function runNpmStart(cwd: string, env: NodeJS.ProcessEnv): Promise<NpmStart> {
  let output = '';
  let stderr = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => ((output += d), (stderr += d)));
  await waitFor(() => output.includes('Press Ctrl-C to stop.') || child.exitCode !== null, 'npm start to be ready or to stop', 120_000, 200);
  return { child, output: () => output, stderr: () => stderr };
}

/**
 * Ctrl-C as a terminal sends it: to the whole foreground process group, not only to `npm start`. Resolves with the exit
 * code once the process has exited.
 */
export function interrupt(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.kill(-child.pid!, 'SIGINT');
  return exited;
}

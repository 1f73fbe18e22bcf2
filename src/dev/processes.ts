import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (null when ended by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop: (graceMs?: number) => Promise<number | null>;
}

/**
 * Starts a long-running child with its output appended to `logFile` (the terminal stays readable; the
 * file is where to look when something fails).
 */
export function startProcess(options: { name: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): ManagedProcess {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = fs.openSync(options.logFile, 'a');
  // Its own process group: a terminal's Ctrl-C reaches only the parent, which stops the parts in order.
  const child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(child.exitCode ?? -1));
  });
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(kill);
    return code;
  };
  return { name: options.name, child, logFile: options.logFile, exited, stop };
}

/** The last lines of a log file, for an error message when a process failed to come up. */
export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * The chaos harness's process supervisor: every part (PostgreSQL, Temporal, worker, API) is an OS process it
 * owns, in its own process group, so kill -9 takes the whole part (PostgreSQL's backends included) and the
 * harness can restart it on the same data. Everything started here is stopped on exit, error or Ctrl-C.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessSpec {
  /** Short name used in logs and the report: `worker`, `api`, `postgres`, `temporal`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Every line the process writes goes here (appended across restarts). */
  logFile: string;
  /** Resolves once the process can serve; rejects on its deadline. Called after every (re)start. */
  ready: (proc: ManagedProcess) => Promise<void>;
  /** What a graceful stop sends; SIGKILL follows after `stopGraceMs`. */
  stopSignal?: NodeJS.Signals;
  stopGraceMs?: number;
}

export interface ExitRecord {
  name: string;
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False when the harness did not ask for it: a crash of its own, worth reporting. */
  expected: boolean;
}

const live = new Set<ManagedProcess>();

/** Kills every process group still running (synchronous: safe in an `exit` handler). */
export function killAllSync(): void {
  for (const proc of live) proc.killGroupSync();
}

export class ManagedProcess {
  private child: ChildProcess | null = null;
  private expectingExit = false;
  private exitWaiters: (() => void)[] = [];
  readonly exits: ExitRecord[] = [];
  /** Output lines since the last start, for ready checks that wait on a log line. */
  output = '';
  /** Kept down on purpose by a fault: the stack's watchdog leaves it alone. */
  held = false;

  constructor(readonly spec: ProcessSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits until it is ready; on a failed ready check the process is killed. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = fs.openSync(this.spec.logFile, 'a');
    fs.writeSync(log, `\n---- start ${new Date().toISOString()}\n`);
    const options: SpawnOptions = {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: kill(-pid) reaches its children too
      ...(this.spec.uid !== undefined ? { uid: this.spec.uid, gid: this.spec.gid } : {}),
    };
    const child = spawn(this.spec.command, this.spec.args, options);
    this.child = child;
    this.output = '';
    this.expectingExit = false;
    live.add(this);
    const capture = (chunk: Buffer) => {
      fs.writeSync(log, chunk);
      // Ready checks only need the recent past; keep memory bounded under chatty logs.
      this.output = (this.output + chunk.toString()).slice(-64_000);
    };
    child.stdout!.on('data', capture);
    child.stderr!.on('data', capture);
    child.once('exit', (code, signal) => {
      live.delete(this);
      this.exits.push({ name: this.name, at: Date.now(), code, signal, expected: this.expectingExit });
      fs.closeSync(log);
      for (const wake of this.exitWaiters.splice(0)) wake();
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await this.spec.ready(this);
    } catch (err) {
      await this.kill9();
      throw new Error(`${this.name} did not become ready: ${(err as Error).message} (log: ${this.spec.logFile})`);
    }
  }

  /** Resolves when the current process has exited (at once if none runs). */
  exited(): Promise<void> {
    if (!this.child || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /**
   * kill -9 of the process, its group and every descendant (PostgreSQL's backends lead their own sessions,
   * so the group alone would miss them); resolves once all of them are gone.
   */
  async kill9(): Promise<void> {
    if (!this.running || !this.child?.pid) return;
    this.expectingExit = true;
    const done = this.exited();
    const tree = descendantsOf(this.child.pid);
    this.killGroupSync();
    for (const pid of tree) signalPid(pid, 'SIGKILL');
    await done;
    const until = Date.now() + 10_000;
    while (tree.some(isAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }

  /** A graceful stop (the part's own signal), then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    if (!this.running || !this.child?.pid) return;
    this.expectingExit = true;
    const done = this.exited();
    signalGroup(this.child.pid, this.spec.stopSignal ?? 'SIGTERM');
    const grace = setTimeout(() => this.killGroupSync(), this.spec.stopGraceMs ?? 10_000);
    await done;
    clearTimeout(grace);
    // Children left in the group (none expected) go too.
    signalGroup(this.child.pid, 'SIGKILL');
  }

  killGroupSync(): void {
    if (this.child?.pid && this.running) {
      this.expectingExit = true;
      signalGroup(this.child.pid, 'SIGKILL');
    }
  }

  /** Exits the harness did not cause, since `since` (epoch ms). */
  unexpectedExits(since = 0): ExitRecord[] {
    return this.exits.filter((e) => !e.expected && e.at >= since);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  signalPid(-pid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  // A zombie still answers kill(0); /proc says whether it is only waiting to be reaped.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `root`, from /proc (Linux). */
export function descendantsOf(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name, which may itself contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push(pid);
      frontier.push(pid);
    }
  }
  return found;
}

/**
 * Stops everything on the way out: a normal end calls `stopAll` itself; an uncaught error, SIGINT or SIGTERM
 * kill -9 what is left (the parts' data is disposable) and exit non-zero.
 */
export function installCleanup(onSignal: () => Promise<void>): void {
  process.on('exit', killAllSync);
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping every process the chaos harness started…`);
    const hardStop = setTimeout(() => process.exit(130), 20_000);
    hardStop.unref();
    onSignal()
      .catch(() => undefined)
      .finally(() => {
        killAllSync();
        process.exit(130);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/messages';

export interface DevServer {
  address: string;
  /** The server's process id (the bench reads its CPU time). */
  pid: number;
  uiUrl: string;
  stop: () => Promise<void>;
}

export async function waitForPort(port: number, deadlineMs: number, child?: ChildProcess): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`The Temporal dev server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`Nothing listened on 127.0.0.1:${port} within ${deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * SQLite settings for the dev server's file. WAL with synchronous=NORMAL commits without an fsync per transaction
 * and checkpoints in the background: about 1.7× the throughput of the default rollback journal (measured,
 * docs/decisions.md). A killed server process loses nothing — the WAL is on disk; only an OS crash or power
 * loss can drop the last commits. A larger page cache and memory-mapped reads cut the read side.
 */
export const DURABLE_SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=NORMAL', 'cache_size=-65536', 'temp_store=MEMORY', 'mmap_size=268435456'];

/**
 * Dynamic config for the single-process dev server. One task-queue partition instead of four: with one matching
 * host, four partitions only split the queue so polls and tasks are forwarded between partitions, costing server
 * CPU and missed sync matches on every task (measured: docs/decisions.md). A multi-host cluster keeps its own.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'];

/**
 * Task Queue Priority and Fairness (server 1.29): the priority-aware matcher, and fairness keys (our organizations)
 * dispatched in proportion to their weights, so one tenant's burst does not queue another's events behind it.
 * Fairness keeps its backlog in its own table (`tasks_v2`): switching it on or off strands a backlog written
 * under the other setting, so a server keeps one setting for the life of its data.
 */
export const FAIRNESS_DYNAMIC_CONFIG = ['matching.useNewMatcher=true', 'matching.enableFairness=true'];

/** Runs `temporal server start-dev` on loopback with our search attributes registered. */
export async function startTemporalDevServer(options: {
  cliPath: string;
  port: number;
  uiPort: number | null;
  /** A SQLite file (durable, with DURABLE_SQLITE_PRAGMAS); without one, Temporal keeps everything in memory. */
  dbFile?: string;
  /** Override the pragmas (the bench compares configurations). */
  sqlitePragmas?: string[];
  /** Task-queue priority and fairness (default on; the bench's noisy scenario compares it off). */
  fairness?: boolean;
  namespace?: string;
  log?: (line: string) => void;
  /**
   * Out of our process group, so a terminal's Ctrl-C (sent to the whole group) reaches only us and we stop the server
   * after the worker that uses it (`npm start`). It still goes when this process exits.
   */
  ownProcessGroup?: boolean;
}): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'error', '--namespace', options.namespace ?? 'default'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    for (const pragma of options.sqlitePragmas ?? DURABLE_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  for (const value of [...DEV_SERVER_DYNAMIC_CONFIG, ...(options.fairness === false ? [] : FAIRNESS_DYNAMIC_CONFIG)]) args.push('--dynamic-config-value', value);
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=Keyword`);

  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownProcessGroup ?? false });
  child.stderr!.on('data', (d: Buffer) => options.log?.(d.toString().trim()));
  // Out of our group, a signal to it no longer takes the server along: it goes when this process exits.
  const stopOnExit = () => child.kill('SIGTERM');
  if (options.ownProcessGroup) process.once('exit', stopOnExit);
  await waitForPort(options.port, 60_000, child);
  return {
    address: `127.0.0.1:${options.port}`,
    pid: child.pid!,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : '',
    stop: () =>
      new Promise<void>((resolve) => {
        process.off('exit', stopOnExit);
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

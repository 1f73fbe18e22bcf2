/**
 * CPU and memory of whole process trees, read from /proc (Linux). A process's own time plus the time of its
 * children that already exited (cutime/cstime), summed over the live tree, counts every CPU second once — so a
 * PostgreSQL whose backends come and go is measured whole.
 */
import fs from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

/** A /proc stat file's command name and its fields from `state` on (so field n of proc(5) is at n - 3). */
function statFields(file: string): { comm: string; f: string[] } | null {
  try {
    const raw = fs.readFileSync(file, 'utf8');
    const close = raw.lastIndexOf(')');
    return { comm: raw.slice(raw.indexOf('(') + 1, close), f: raw.slice(close + 2).split(' ') };
  } catch {
    return null; // exited between listing and reading
  }
}

function readStat(pid: number): ProcStat | null {
  const s = statFields(`/proc/${pid}/stat`);
  // ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return s && { pid, ppid: Number(s.f[1]), comm: s.comm, ticks: Number(s.f[11]) + Number(s.f[12]) + Number(s.f[13]) + Number(s.f[14]) };
}

function allStats(): ProcStat[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== null);
}

/** The pid and every live descendant. */
export function processTree(root: number, stats = allStats()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: ProcStat[] = [];
  const walk = (pid: number) => {
    const self = stats.find((s) => s.pid === pid);
    if (self) out.push(self);
    for (const c of children.get(pid) ?? []) walk(c.pid);
  };
  walk(root);
  return out;
}

/** CPU seconds used so far by a process tree. */
export function cpuSeconds(root: number): number {
  return processTree(root).reduce((sum, s) => sum + s.ticks, 0) / CLOCK_TICKS_PER_SECOND;
}

/** The children of `parent` whose command name matches (e.g. the embedded PostgreSQL's postmaster). */
export function childrenNamed(parent: number, name: RegExp): number[] {
  return allStats()
    .filter((s) => s.ppid === parent && name.test(s.comm))
    .map((s) => s.pid);
}

/** Resident memory of a process tree now and its peak (sum of each process's VmHWM), in MiB. */
export function memoryMiB(root: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const s of processTree(root)) {
    try {
      const status = fs.readFileSync(`/proc/${s.pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return { rss: rss / 1024, peak: peak / 1024 };
}

/** CPU seconds of several named process trees, taken together so a window's difference is consistent. */
export type CpuSnapshot = Record<string, number>;
export function snapshotCpu(roots: Record<string, number[]>): CpuSnapshot {
  const stats = allStats();
  const out: CpuSnapshot = {};
  for (const [name, pids] of Object.entries(roots)) {
    out[name] = pids.reduce((sum, pid) => sum + processTree(pid, stats).reduce((s, p) => s + p.ticks, 0), 0) / CLOCK_TICKS_PER_SECOND;
  }
  return out;
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
}

/**
 * A Node process's CPU by thread: its main thread (the API, the activities, the SDK's bridge), the SDK's Rust core
 * (threads it names: tokio runtime, workflow processing), and its other threads, all named `node` (the workflow
 * thread's isolate, V8's GC and compiler helpers, libuv's pool). Threads that exit inside a window are counted
 * in the process's total only, so the groups are read at both ends and `exited` is the remainder.
 */
export type ThreadGroup = 'main' | 'core' | 'otherNode';
export interface ThreadSnapshot {
  process: number;
  threads: Map<number, { group: ThreadGroup; ticks: number }>;
}

/** A thread's (or a process's) own utime + stime and name: no reaped children. */
function ownTicks(statFile: string): { comm: string; ticks: number } | null {
  const s = statFields(statFile);
  return s && { comm: s.comm, ticks: Number(s.f[11]) + Number(s.f[12]) };
}

export function snapshotThreads(pid: number): ThreadSnapshot {
  const threads = new Map<number, { group: ThreadGroup; ticks: number }>();
  let tids: number[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // the process exited
  }
  for (const tid of tids) {
    const t = ownTicks(`/proc/${pid}/task/${tid}/stat`);
    if (t) threads.set(tid, { group: tid === pid ? 'main' : t.comm === 'node' ? 'otherNode' : 'core', ticks: t.ticks });
  }
  return { process: ownTicks(`/proc/${pid}/stat`)?.ticks ?? 0, threads };
}

/** CPU seconds by thread group between two snapshots of one process. */
export function threadDelta(before: ThreadSnapshot, after: ThreadSnapshot): Record<ThreadGroup | 'exited', number> {
  const out = { main: 0, core: 0, otherNode: 0, exited: 0 };
  for (const [tid, t] of after.threads) out[t.group] += (t.ticks - (before.threads.get(tid)?.ticks ?? 0)) / CLOCK_TICKS_PER_SECOND;
  const grouped = out.main + out.core + out.otherNode;
  out.exited = Math.max(0, (after.process - before.process) / CLOCK_TICKS_PER_SECOND - grouped);
  return out;
}

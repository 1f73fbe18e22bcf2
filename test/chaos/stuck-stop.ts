/**
 * A stop that always ends (issue 18), under load: SIGTERM the worker while its attempts are stuck — the receivers
 * hold every request far beyond the 10 s attempt timeout, and PostgreSQL is frozen (SIGSTOP of the server and its
 * backends: queries neither answer nor fail), so no attempt can finish or be recorded. The worker must exit by
 * itself within its deadline (src/shutdown.ts); then PostgreSQL resumes, the receivers answer again, the worker
 * restarts, and the scenario's rules judge the rest: nothing lost, nothing finished sent again, and duplicates only
 * for the attempts the stop cut.
 */
import { WORKER_STOP_DEADLINE_MS } from '../../src/shutdown';
import type { FaultContext } from './scenario';
import { descendantsOf, ManagedProcess } from './supervisor';
import type { FaultWindow } from './verdict';

/** A signal to a process and every process below it (PostgreSQL's backends lead their own sessions). */
function signalTree(proc: ManagedProcess, signal: 'SIGSTOP' | 'SIGCONT'): void {
  if (!proc.pid) return;
  for (const pid of [proc.pid, ...descendantsOf(proc.pid)]) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Resolves with the ms the worker took to exit after SIGTERM; rejects once `boundMs` passed without an exit. */
function exitAfterSigterm(worker: ManagedProcess, boundMs: number): Promise<number> {
  const from = Date.now();
  process.kill(-worker.pid!, 'SIGTERM');
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker was still running ${boundMs / 1000} s after SIGTERM`)), boundMs);
    void worker.exited().then(() => (clearTimeout(timer), resolve(Date.now() - from)));
  });
}

export async function stopWorkerWithStuckAttempts(ctx: FaultContext): Promise<FaultWindow[]> {
  const worker = ctx.stack.part('worker');
  const postgres = ctx.stack.part('postgres');
  await ctx.untilAccepted(Math.floor(ctx.eventsPlanned / 3));
  // From now on every request is held (10 min): the attempts end only by their own 10 s deadline.
  for (const r of ctx.receivers) r.behaviour = { ...r.behaviour, holdMs: 600_000 };
  await ctx.untilInFlight(3);
  const held = ctx.receivers.reduce((sum, r) => sum + r.inFlight, 0);
  const from = Date.now();
  // Kept down on purpose: the watchdog must neither restart the worker nor mind PostgreSQL.
  worker.held = true;
  postgres.held = true;
  signalTree(postgres, 'SIGSTOP');
  let resumedAt: number;
  try {
    const tookMs = await exitAfterSigterm(worker, WORKER_STOP_DEADLINE_MS + 10_000);
    const line = `SIGTERM with ${held} requests held and PostgreSQL frozen: the worker exited after ${(tookMs / 1000).toFixed(1)} s (deadline ${WORKER_STOP_DEADLINE_MS / 1000} s)`;
    ctx.log(`    ${line}`);
    ctx.note(line);
    if (tookMs > WORKER_STOP_DEADLINE_MS) throw new Error(`the worker took ${(tookMs / 1000).toFixed(1)} s to stop, past its ${WORKER_STOP_DEADLINE_MS / 1000} s deadline`);
  } finally {
    signalTree(postgres, 'SIGCONT');
    resumedAt = Date.now();
    postgres.held = false;
    for (const r of ctx.receivers) r.behaviour = { ...r.behaviour, holdMs: 0 };
  }
  try {
    await worker.start();
  } finally {
    worker.held = false;
  }
  const to = Date.now();
  ctx.log(`    PostgreSQL resumed, receivers answer again, worker back after ${((to - from) / 1000).toFixed(1)} s`);
  return [
    { part: 'worker', what: 'SIGTERM of the worker with its attempts stuck', from, to },
    { part: 'postgres', what: 'PostgreSQL frozen (SIGSTOP)', from, to: resumedAt },
  ];
}

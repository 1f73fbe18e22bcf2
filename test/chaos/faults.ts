/**
 * Fault injectors. Each one records the window in which its part was down (or failing), which the verdict
 * uses to tell a duplicate cut by the crash from one that is not.
 */
import type { ChaosReceiver } from './receiver';
import type { ManagedProcess } from './supervisor';
import type { FaultWindow, Part } from './verdict';
import { sleepMs } from './wait';

/**
 * kill -9 of a part (its whole process tree), optionally kept down for `downMs`, then a restart on the same
 * data; the window ends once the part is ready again. A restart that fails is retried (PostgreSQL may refuse
 * while the killed server's shared memory is being released).
 */
export function killAndRestart(proc: ManagedProcess, part: Part, o: { downMs?: number; log: (line: string) => void }): Promise<FaultWindow> {
  return takeDownAndRestart(proc, part, { ...o, how: 'kill -9' });
}

/** A graceful stop of a part (its own stop signal: PostgreSQL's fast shutdown), down for `downMs`, then a start on the same data. */
export function stopAndStart(proc: ManagedProcess, part: Part, o: { downMs?: number; log: (line: string) => void }): Promise<FaultWindow> {
  return takeDownAndRestart(proc, part, { ...o, how: 'stop' });
}

async function takeDownAndRestart(proc: ManagedProcess, part: Part, o: { how: 'kill -9' | 'stop'; downMs?: number; log: (line: string) => void }): Promise<FaultWindow> {
  const downMs = o.downMs ?? 0;
  proc.held = true;
  const from = Date.now();
  const pid = proc.pid;
  await (o.how === 'kill -9' ? proc.kill9() : proc.stop());
  const down = downMs ? `, down for ${Math.round(downMs / 1000)} s` : '';
  o.log(`    ${o.how} ${proc.name} (pid ${pid ?? '?'}${o.how === 'kill -9' ? ' and its process group' : ''})${down}`);
  const window: FaultWindow = { part, what: `${o.how} ${proc.name}${downMs ? ` (down ${Math.round(downMs / 1000)} s)` : ''}`, from, to: null };
  try {
    if (downMs) await sleepMs(downMs);
    for (let attempt = 1; ; attempt++) {
      try {
        await proc.start();
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        o.log(`    restart of ${proc.name} failed (${(err as Error).message}); trying again`);
        await sleepMs(1000);
      }
    }
    window.to = Date.now();
    o.log(`    ${proc.name} back after ${((window.to - from) / 1000).toFixed(1)} s`);
  } finally {
    proc.held = false;
  }
  return window;
}

/** The receivers answer 500 from now on, until the returned function is called (the endpoint recovers). */
export function failReceivers(receivers: ChaosReceiver[]): () => FaultWindow {
  const from = Date.now();
  for (const r of receivers) r.behaviour = { ...r.behaviour, status: 500 };
  return () => {
    for (const r of receivers) r.behaviour = { ...r.behaviour, status: 200 };
    return { part: 'receiver', what: 'receivers answer 500', from, to: Date.now() };
  };
}

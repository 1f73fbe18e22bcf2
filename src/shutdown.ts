/**
 * A stop that always ends (issue 18): SIGINT/SIGTERM finishes within the documented grace whatever the deliveries
 * are doing. Each part's own drain comes first (the API's requests in flight, the worker's attempts); what cannot
 * finish is given up on, logged, and left to where it is safe: an attempt to Temporal, which runs its step again on
 * the next worker (the cut try logged as interrupted, at-least-once), an outbox claim to its rolled-back transaction.
 */
import { API_DRAIN_DEADLINE_MS } from './api/drain';
import type { Logger } from './logger';
import { within } from './time-limit';

/** Attempts in flight at SIGTERM get this long to finish and be logged: the SDK's `shutdownGraceTime`, longer than the 10 s request. */
export const WORKER_SHUTDOWN_GRACE_MS = 15_000;
/**
 * Then the SDK cancels what still runs, and after this long from the stop (`shutdownForceTime`) gives up on it: an
 * attempt stuck on a database that does not answer, or a local activity retrying an outage (the SDK retries local
 * activities through a shutdown).
 */
export const WORKER_SHUTDOWN_FORCE_MS = 18_000;
/** A claim of the outbox in progress gets this long to commit or roll back before the worker stops. */
export const OUTBOX_STOP_MS = 2_000;
/** Closing a connection or pool at the end of a stop: one with a query stuck on it would otherwise wait for it. */
export const CLOSE_MS = 2_000;

/** A worker process (`npm run worker`, dist/worker.js): exits within this of SIGTERM. Kubernetes gives it 30 s. */
export const WORKER_STOP_DEADLINE_MS = 25_000;
/** An API process: exits within this of SIGTERM, after its readiness delay. Kubernetes gives it 40 s (with a 5 s delay). */
export const API_STOP_DEADLINE_MS = API_DRAIN_DEADLINE_MS + 5_000;
/** `npm start` (API and worker side by side, then Temporal and PostgreSQL): the worker's 15 s plus the API's drain. */
export const ALL_IN_ONE_STOP_DEADLINE_MS = WORKER_SHUTDOWN_GRACE_MS + API_DRAIN_DEADLINE_MS;

export interface StopStep {
  /** What the log names if the stop is still waiting on it at the deadline. */
  name: string;
  run: () => Promise<unknown>;
  /** Given up on after this long (logged), so one step that cannot finish does not hold up the ones after it. */
  timeoutMs?: number;
}

/**
 * Runs a process's stop steps in order. A step that fails or runs out of time is logged and the next one runs. If the
 * whole stop is not done `deadlineMs` after it began, the process exits with code 1 then and there, the log naming the
 * step it was waiting on (`onDeadline` runs first, synchronously: kill child processes that would outlive us).
 */
export async function runStop(steps: StopStep[], o: { deadlineMs: number; logger: Logger; onDeadline?: () => void; exit?: (code: number) => void }): Promise<void> {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let waitingOn = 'the first step';
  const deadline = setTimeout(() => {
    o.logger.error({ waitingOn, deadlineMs: o.deadlineMs }, `stop not done within ${o.deadlineMs / 1000} s (still waiting on ${waitingOn}): exiting anyway`);
    o.onDeadline?.();
    exit(1);
  }, o.deadlineMs);
  try {
    for (const step of steps) {
      waitingOn = step.name;
      try {
        await (step.timeoutMs === undefined ? step.run() : within(step.run(), step.timeoutMs, step.name));
      } catch (err) {
        o.logger.warn({ step: step.name, err: (err as Error).message }, 'stop step failed or ran out of time; going on');
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

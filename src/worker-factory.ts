import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { ActivityDeps, createActivities } from './activities';
import type { Tracing } from './tracing';
import { WORKER_SHUTDOWN_FORCE_MS, WORKER_SHUTDOWN_GRACE_MS } from './shutdown';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The workflow code, bundled ahead (`npm run build`'s, the cached one, or the tests' shared bundle). */
  workflowBundle: WorkerOptions['workflowBundle'];
  /** Workflows kept in memory between tasks (the SDK's sticky cache); 0 replays every task from history. */
  maxCachedWorkflows?: number;
  /** With tracing on: its activity interceptors and workflow span sink (the bundle must be the traced one). */
  tracing?: Tracing['workerOptions'];
}

/**
 * Worker options set from measurements (docs/decisions.md, docs/performance.md). Deliveries wait on HTTP, not CPU, so many local
 * activities may be in flight; the sticky cache keeps a workflow between its start and its completion (a cache of
 * 0 doubles the server's work per delivery), bounded at 250 so RSS stays flat while thousands wait in back-off
 * (parked 3,000: 677 → 440 MiB against 1,000; a parked workflow is replayed when its timer fires).
 * 250 workflow-task slots, as many as the cache holds (the SDK allows no more): a delivery's one workflow task holds
 * its slot for the whole attempt, request included, so receivers answering in 2 s need ~160 at 80 deliveries/s.
 * How many new deliveries run at once is the outbox's admission (DISPATCH_MAX_IN_FLIGHT), not this.
 */
export const WORKER_TUNING = {
  // A very slow endpoint's attempts run as regular activities (src/activities/delivery.ts): 10 s time-outs at
  // 50/s keep 500 in flight. Each is a socket and a promise, so the bound is generous.
  maxConcurrentActivityTaskExecutions: 500,
  maxConcurrentLocalActivityExecutions: 250,
  maxConcurrentWorkflowTaskExecutions: 250,
  maxCachedWorkflows: 250,
} satisfies Partial<WorkerOptions>;

/** The one worker: delivery, fan-out and health workflows, and their activities. */
export function createWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    workflowBundle: setup.workflowBundle,
    activities: createActivities(setup.deps),
    ...WORKER_TUNING,
    // On shutdown (SIGTERM), attempts in flight finish and are logged (longer than the 10 s attempt timeout); what
    // still runs after that is cancelled, and given up on at the force time (src/shutdown.ts).
    shutdownGraceTime: WORKER_SHUTDOWN_GRACE_MS,
    shutdownForceTime: WORKER_SHUTDOWN_FORCE_MS,
    ...(setup.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: setup.maxCachedWorkflows } : {}),
    ...setup.tracing,
  });
}

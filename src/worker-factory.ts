import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { ActivityDeps, createActivities } from './activities';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The workflow code, bundled ahead (`npm run build`'s, the cached one, or the tests' shared bundle). */
  workflowBundle: WorkerOptions['workflowBundle'];
  /** Workflows kept in memory between tasks (the SDK's sticky cache); 0 replays every task from history. */
  maxCachedWorkflows?: number;
}

/**
 * Worker options set from measurements (docs/performance.md). Deliveries wait on HTTP, not CPU, so many local
 * activities may be in flight; the sticky cache keeps a workflow between its start and its completion (a cache of
 * 0 doubles the server's work per delivery), bounded at 250 so RSS stays flat while thousands wait in back-off
 * (parked 3,000: 677 → 440 MiB against 1,000; a parked workflow is replayed when its timer fires).
 * 100 workflow-task slots (the SDK's default is 40): a delivery's one workflow task holds its slot for the whole
 * attempt, and a start goes eager only while a slot is free. With 40, 45–55% of a burst's starts went eager; with
 * 100, 85–100% (all in the paired runs), and the server's CPU per delivery fell from 18.1 to 14.2 ms (burst 3,000 × 2).
 */
export const WORKER_TUNING = {
  // A slow endpoint's attempts run as regular activities (src/activities/delivery.ts): 2 s answers at 100/s keep
  // 200 in flight, 10 s time-outs 1,000. Each is a socket and a promise, so the bound is generous.
  maxConcurrentActivityTaskExecutions: 500,
  maxConcurrentLocalActivityExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 100,
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
    // On shutdown (SIGTERM), attempts in flight finish and are logged: longer than the 10 s attempt timeout.
    shutdownGraceTime: '15 seconds',
    ...(setup.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: setup.maxCachedWorkflows } : {}),
  });
}

import { Client, ConnectionLike, ScheduleAlreadyRunning, ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { logRetentionScheduleId, workflowTypes } from '../workflows/messages';

/** Daily at 03:17 UTC: off the hour, when traffic is usually low. */
const DAILY = { calendars: [{ hour: 3, minute: 17, comment: 'daily Delivery Log prune' }] };

function scheduleOptions(taskQueue: string, retentionDays: number) {
  return {
    scheduleId: logRetentionScheduleId(taskQueue),
    spec: DAILY,
    action: {
      type: 'startWorkflow' as const,
      workflowType: workflowTypes.deliveryLogRetentionWorkflow,
      workflowId: logRetentionScheduleId(taskQueue),
      taskQueue,
      args: [{ retentionDays }] as [{ retentionDays: number }],
    },
    // A prune still running when the next is due: skip that one. A day missed while down: run once on return.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  } satisfies ScheduleOptions;
}

/**
 * Creates the Delivery Log retention schedule, or brings an existing one up to date (a changed
 * LOG_RETENTION_DAYS takes effect on the next worker start). Every worker calls this at start; the
 * create is idempotent, so replicas racing each other are fine.
 */
export async function ensureLogRetentionSchedule(client: Client, o: { taskQueue: string; retentionDays: number }): Promise<void> {
  const options = scheduleOptions(o.taskQueue, o.retentionDays);
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
  }
}

/** Temporal keeps closed workflow histories as long as the Delivery Log keeps their rows (the log links to them). */
export async function applyNamespaceRetention(connection: ConnectionLike, namespace: string, retentionDays: number): Promise<void> {
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(retentionDays * 24 * 60 * 60 * 1000) },
  });
}

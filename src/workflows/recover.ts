import { continueAsNew, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { RecoverWorkflowInput, RecoveryProgress, recoveryProgressQuery } from './messages';

const { recoverBatch, completeRecovery } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Deliveries re-delivered per activity: bounded, so one activity stays short and a retry repeats little. */
export const RECOVERY_BATCH_SIZE = 100;
/** Batches per run before continuing as new, so a recovery of many thousands keeps a small history. */
const MAX_BATCHES_PER_RUN = 50;

/**
 * The owner's "Recover": pages through a webhook's failed and skipped deliveries since a time, oldest first,
 * and re-delivers each through its own delivery workflow (a skipped one gets its first run, a failed one a
 * new run). Progress is a query; the recovery's row in PostgreSQL mirrors it for the API.
 */
export async function recoverWebhookWorkflow(input: RecoverWorkflowInput): Promise<RecoveryProgress> {
  const progress: RecoveryProgress = { total: input.total, started: input.started ?? 0, status: 'running' };
  let cursor = input.cursor ?? null;
  setHandler(recoveryProgressQuery, () => progress);
  // The Temporal UI shows these details beside the start's static summary (which a continued run does not carry).
  const showProgress = () =>
    setCurrentDetails(`Recovery ${input.recoveryId} of webhook ${input.webhookId}: ${progress.status}, re-delivered ${progress.started} of ${progress.total} (${input.statuses.join('/')} since ${input.since})`);
  showProgress();

  const batchSize = input.batchSize ?? RECOVERY_BATCH_SIZE;
  const maxBatchesPerRun = input.maxBatchesPerRun ?? MAX_BATCHES_PER_RUN;
  for (let batches = 1; ; batches++) {
    const batch = await recoverBatch({
      recoveryId: input.recoveryId,
      webhookId: input.webhookId,
      since: input.since,
      until: input.until,
      statuses: input.statuses,
      after: cursor,
      limit: batchSize,
    });
    cursor = batch.cursor;
    progress.started = batch.started;
    // A delivery that failed after the count was taken is recovered too: the total follows.
    progress.total = Math.max(progress.total, progress.started);
    showProgress();
    if (batch.done) break;
    if (batches >= maxBatchesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof recoverWebhookWorkflow>({ ...input, total: progress.total, cursor, started: progress.started });
    }
  }
  await completeRecovery({ recoveryId: input.recoveryId });
  progress.status = 'completed';
  showProgress();
  return progress;
}

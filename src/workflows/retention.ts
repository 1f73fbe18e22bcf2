import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LogRetentionInput } from './messages';

// A prune of a large backlog takes a while; heartbeats after each batch show it is alive.
const { pruneDeliveryLog } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes' },
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** Deletes the Delivery Log older than the retention period; a Temporal Schedule starts it daily. */
export async function deliveryLogRetentionWorkflow(input: LogRetentionInput) {
  const cutoff = new Date(Date.now() - input.retentionDays * DAY_MS).toISOString();
  return { cutoff, ...(await pruneDeliveryLog({ cutoff })) };
}

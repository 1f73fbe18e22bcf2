import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { FanoutWorkflowInput } from './messages';

const { startEventDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Starts one deliveryWorkflow per delivery row of an ingested event. The API starts this one workflow
 * before it answers 202, so from then on Temporal owns the fan-out and a crash loses nothing.
 */
export async function fanoutWorkflow(input: FanoutWorkflowInput): Promise<number> {
  return startEventDeliveries(input);
}

import { proxyLocalActivities } from '@temporalio/workflow';
import type { FloorActivities } from './process';

const { post } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '20 seconds' });

/** The Temporal floor: the least a delivery can be — one workflow, one local activity that posts. */
export async function floorWorkflow(sentAt: number, key: string): Promise<void> {
  await post(sentAt, key);
}

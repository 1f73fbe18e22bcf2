import { DeliveryWorkflows } from '../services/delivery-workflows';
import { startEventDeliveries } from '../services/dispatcher';
import { fairnessWeightsFor } from '../services/fairness-weights';
import type { FanoutWorkflowInput } from '../workflows/messages';
import type { ActivityDeps } from '.';

export function createFanoutActivities({ db, temporal, config }: ActivityDeps) {
  const workflows = new DeliveryWorkflows(temporal, config.taskQueue, { eagerStart: config.eagerStart, weights: fairnessWeightsFor(db) });
  return {
    async startEventDeliveries({ organizationId, eventId }: FanoutWorkflowInput): Promise<number> {
      return startEventDeliveries(db, workflows, organizationId, eventId);
    },
  };
}

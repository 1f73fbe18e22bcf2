import { DeliveryWorkflows } from '../dispatch/delivery-workflows';
import { startEventDeliveries } from '../dispatch/outbox-dispatcher';
import { fairnessWeightsFor } from '../dispatch/fairness-weights';
import type { FanoutWorkflowInput } from '../workflows/messages';
import type { ActivityDeps } from './deps';

export function createFanoutActivities({ db, temporal, config }: ActivityDeps) {
  const workflows = new DeliveryWorkflows(temporal, config.taskQueue, { eagerStart: config.eagerStart, weights: fairnessWeightsFor(db) });
  return {
    async startEventDeliveries({ organizationId, eventId }: FanoutWorkflowInput): Promise<number> {
      return startEventDeliveries(db, workflows, organizationId, eventId);
    },
  };
}

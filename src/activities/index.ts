import type { ActivityDeps } from './deps';
import { createDeliveryActivities } from './delivery';
import { createFanoutActivities } from './fanout';
import { createHealthActivities } from './health';
import { createRecoverActivities } from './recover';
import { createRetentionActivities } from './retention';
import { slotAccounting } from './slot-accounting';

export type { ActivityDeps } from './deps';

/** Every activity, built from its dependencies (the samples-typescript factory pattern). */
export function createActivities(deps: ActivityDeps) {
  const accounting = deps.slots && slotAccounting(deps.slots);
  const delivery = createDeliveryActivities(deps, accounting?.hooks);
  return {
    ...delivery,
    attemptDelivery: accounting ? accounting.wrap(delivery.attemptDelivery) : delivery.attemptDelivery,
    ...createFanoutActivities(deps),
    ...createHealthActivities(deps),
    ...createRecoverActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

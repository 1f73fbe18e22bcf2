import type { Knex } from 'knex';
import { deliveriesStore } from './stores/deliveries';
import { deliveryAttemptsStore } from './stores/delivery-attempts';
import { eventsStore } from './stores/events';

export interface PruneResult {
  attempts: number;
  deliveries: number;
  events: number;
}

/**
 * Deletes the Delivery Log older than `cutoff` in batches of `batchSize`, each its own short transaction,
 * so the tables are never locked for long and an interrupted prune just continues next time. Deliveries
 * still pending or retrying are kept whatever their age; events go once no delivery refers to them.
 * `onBatch` is called after every batch (the activity heartbeats there).
 */
export async function pruneDeliveryLog(db: Knex, o: { cutoff: Date; batchSize: number; onBatch?: (sofar: PruneResult) => void }): Promise<PruneResult> {
  const result: PruneResult = { attempts: 0, deliveries: 0, events: 0 };
  for (;;) {
    const batch = await db.transaction(async (trx) => {
      const ids = await deliveriesStore.lockPrunable(trx, o.cutoff, o.batchSize);
      result.attempts += await deliveryAttemptsStore.deleteForDeliveries(trx, ids);
      result.deliveries += await deliveriesStore.deleteByIds(trx, ids);
      return ids.length;
    });
    o.onBatch?.(result);
    if (batch < o.batchSize) break;
  }
  for (;;) {
    const deleted = await eventsStore.deleteUnreferencedBefore(db, o.cutoff, o.batchSize);
    result.events += deleted;
    o.onBatch?.(result);
    if (deleted < o.batchSize) break;
  }
  return result;
}

import { heartbeat } from '@temporalio/activity';
import { pruneDeliveryLog, PruneResult } from '../db/log-retention';
import type { ActivityDeps } from './deps';

const BATCH_SIZE = 1000;

export function createRetentionActivities({ db, logger }: ActivityDeps) {
  return {
    /** Prunes the Delivery Log older than `cutoff` (computed in workflow time), heartbeating after each batch. */
    async pruneDeliveryLog({ cutoff }: { cutoff: string }): Promise<PruneResult> {
      const result = await pruneDeliveryLog(db, { cutoff: new Date(cutoff), batchSize: BATCH_SIZE, onBatch: (sofar) => heartbeat(sofar) });
      logger.info({ cutoff, ...result }, 'Delivery Log pruned');
      return result;
    },
  };
}

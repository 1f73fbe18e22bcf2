import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { SecretBox } from '../domain/secret-box';
import type { OutboundPolicy } from '../delivery/address-guard';
import type { Mailer } from '../mail/mailer';
import type { Logger } from '../logger';
import type { WorkflowSlots } from '../services/workflow-slots';
import { Context } from '@temporalio/activity';
import { AttemptInput, AttemptOutcome, createDeliveryActivities } from './delivery';
import { createFanoutActivities } from './fanout';
import { createHealthActivities } from './health';
import { createRecoverActivities } from './recover';
import { createRetentionActivities } from './retention';

export interface ActivityDeps {
  db: Knex;
  temporal: Client;
  secretBox: SecretBox;
  mailer: Mailer;
  logger: Logger;
  /** The worker's workflow-task slots, as the outbox dispatcher counts them: local attempts hold one each. */
  slots?: WorkflowSlots;
  config: {
    taskQueue: string;
    outbound: OutboundPolicy;
    /** Where the owner re-enables a webhook, for the notification email. */
    publicBaseUrl: string;
    attemptTimeoutMs?: number;
    /** This process runs a worker on the client's connection: workflow starts may go eager. */
    eagerStart?: boolean;
  };
}

/**
 * A request still unanswered after this long waits on its receiver, not on a core: its attempt stops counting
 * against the outbox's admission. A fast receiver's attempt counts throughout (its answer is CPU work to come).
 */
export const SLOW_REQUEST_MS = 50;

/** A local attempt counts against the outbox's admission while it works: see WorkflowSlots. */
function countedInSlots(slots: WorkflowSlots | undefined, attemptDelivery: (input: AttemptInput) => Promise<AttemptOutcome>) {
  if (!slots) return attemptDelivery;
  return async (input: AttemptInput): Promise<AttemptOutcome> => {
    if (!Context.current().info.isLocal) return attemptDelivery(input);
    const step = `${input.idempotencyKey}@${input.attemptedAt}`;
    let waiting: NodeJS.Timeout | undefined;
    slots.attemptBegan(input.deliveryId, step);
    try {
      return await attemptDelivery({ ...input, onRequestSent: () => void (waiting = setTimeout(() => slots.requestSent(step), SLOW_REQUEST_MS).unref()) });
    } finally {
      clearTimeout(waiting);
      slots.attemptEnded(step);
    }
  };
}

/** Every activity, built from its dependencies (the samples-typescript factory pattern). */
export function createActivities(deps: ActivityDeps) {
  const delivery = createDeliveryActivities(deps);
  return {
    ...delivery,
    attemptDelivery: countedInSlots(deps.slots, delivery.attemptDelivery),
    ...createFanoutActivities(deps),
    ...createHealthActivities(deps),
    ...createRecoverActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

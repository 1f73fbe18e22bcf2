import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { SecretBox } from '../domain/secret-box';
import type { OutboundPolicy } from '../delivery/address-guard';
import type { Mailer } from '../mail/mailer';
import type { Logger } from '../logger';
import { createDeliveryActivities } from './delivery';
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

/** Every activity, built from its dependencies (the samples-typescript factory pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
    ...createFanoutActivities(deps),
    ...createHealthActivities(deps),
    ...createRecoverActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

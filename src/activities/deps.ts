/** What every activity is built from (the samples-typescript factory pattern). */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { SecretBox } from '../domain/secret-box';
import type { OutboundPolicy } from '../delivery/address-guard';
import type { Mailer } from '../mail/mailer';
import type { Logger } from '../logger';
import type { WorkflowSlots } from '../dispatch/workflow-slots';
import type { Tracing } from '../tracing';

export interface ActivityDeps {
  db: Knex;
  temporal: Client;
  secretBox: SecretBox;
  mailer: Mailer;
  logger: Logger;
  /** The worker's workflow-task slots, as the outbox dispatcher counts them: local attempts hold one each. */
  slots?: WorkflowSlots;
  /** OpenTelemetry, when on: the attempt's trace id for the Delivery Log, and a span around its HTTP request. */
  tracing?: Tracing;
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

/**
 * Signals, queries and search attributes shared by workflows, activities and the API.
 * Workflow-safe: no Node built-ins, nothing but @temporalio/workflow and plain types.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { FailureDayState } from './failure-days';

export const searchAttributes = {
  webhookId: defineSearchAttributeKey('WebhookId', 'KEYWORD'),
  eventType: defineSearchAttributeKey('EventType', 'KEYWORD'),
  deliveryStatus: defineSearchAttributeKey('DeliveryStatus', 'KEYWORD'),
  vaultId: defineSearchAttributeKey('VaultId', 'KEYWORD'),
};
export const SEARCH_ATTRIBUTE_KEYS = Object.values(searchAttributes);

// ---- deliveryWorkflow
export interface DeliveryWorkflowInput {
  deliveryId: string;
  /** The tenant: its fairness key in the task queue. Absent in runs started before it was added. */
  organizationId?: string;
  webhookId: string;
  eventType: string;
  vaultId?: string;
  /**
   * Set when a redeliver (or a recovery) starts this run — a finished delivery sent again, or a skipped one sent for
   * the first time: someone asked, so its first attempt is logged as manual; it keeps the whole schedule.
   */
  startedOnRequest?: boolean;
  /**
   * Set on every run started now: the run starts without `DeliveryStatus` and sets it only when the delivery leaves
   * the straight path (retrying, failed, cancelled, and the success that ends a retry). A first-attempt success leaves
   * it unset, since Temporal's own status, Completed, says it, and that saves a visibility write on almost every
   * delivery. Absent in runs started before it was added: they start `pending` and set every end, and replay so.
   */
  deliveryStatusOnDetour?: boolean;
}
export type DeliveryState = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';
export interface DeliveryProgress {
  status: DeliveryState;
  scheduledAttempts: number;
  manualAttempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}
/** Attempt now; a finished delivery starts a new run through signalWithStart. */
export const redeliverSignal = defineSignal<[{ requestedBy?: string }]>('redeliver');
/** The webhook was deleted or disabled: end as cancelled without another attempt. */
export const stopDeliverySignal = defineSignal<[{ reason: string }]>('stop');
export const deliveryProgressQuery = defineQuery<DeliveryProgress>('progress');

export const deliveryWorkflowId = (deliveryId: string) => `delivery:${deliveryId}`;
/**
 * The failure type of an attempt no retry can get past (bad stored data, an unusable secret, a programming error):
 * the attempt records the delivery as failed and throws a non-retryable ApplicationFailure of this type.
 */
export const UNDELIVERABLE_FAILURE_TYPE = 'Undeliverable';

// ---- fanoutWorkflow
export interface FanoutWorkflowInput {
  organizationId: string;
  eventId: string;
}
export const fanoutWorkflowId = (organizationId: string, eventId: string) => `fanout:${organizationId}:${eventId}`;

// ---- webhookHealthWorkflow
export interface AttemptOutcomeSignal {
  deliveryId: string;
  succeeded: boolean;
  /** Epoch ms of the attempt in workflow time. */
  at: number;
  status: number | null;
  error: string | null;
  /** With a failure: the webhook's last success (epoch ms), which may not have been signalled itself. */
  lastSuccessAt?: number | null;
}
export interface WebhookHealth {
  consecutiveFailureDays: number;
  failingSince: string | null;
  lastError: string | null;
  lastFailureAt: string | null;
  disabled: boolean;
}
export const attemptOutcomeSignal = defineSignal<[AttemptOutcomeSignal]>('attemptOutcome');
/** The owner re-enabled the webhook: the streak starts over. */
export const webhookEnabledSignal = defineSignal('webhookEnabled');
export const webhookDeletedSignal = defineSignal('webhookDeleted');
export const webhookHealthQuery = defineQuery<WebhookHealth>('health');

export interface WebhookHealthInput {
  webhookId: string;
  state?: FailureDayState & { disabled: boolean };
  /** Outcomes received but not yet processed when the previous run continued as new. */
  pending?: AttemptOutcomeSignal[];
}

export const webhookHealthWorkflowId = (webhookId: string) => `webhook-health:${webhookId}`;

// ---- recoverWebhookWorkflow
export type RecoverableDeliveryStatus = 'failed' | 'skipped';
export interface RecoverWorkflowInput {
  recoveryId: string;
  webhookId: string;
  /** ISO times: deliveries created in [since, until] with one of `statuses` are re-delivered. */
  since: string;
  until: string;
  statuses: RecoverableDeliveryStatus[];
  total: number;
  /** Carried across continue-as-new: where paging stands and how many were re-delivered. */
  cursor?: { createdAt: string; id: string } | null;
  started?: number;
  /** Deliveries per batch and batches per run (defaults 100 and 50; smaller in tests of paging). */
  batchSize?: number;
  maxBatchesPerRun?: number;
}
export interface RecoveryProgress {
  total: number;
  started: number;
  status: 'running' | 'completed';
}
export const recoveryProgressQuery = defineQuery<RecoveryProgress>('recoveryProgress');

export const recoverWorkflowId = (webhookId: string, recoveryId: string) => `recover:${webhookId}:${recoveryId}`;
// ---- deliveryLogRetentionWorkflow (started daily by a Temporal Schedule)
export interface LogRetentionInput {
  retentionDays: number;
}
/** One schedule (and one running prune at most) per task queue. */
export const logRetentionScheduleId = (taskQueue: string) => `delivery-log-retention:${taskQueue}`;

// ---- Every workflow by its type name and signature
/**
 * Callers outside src/workflows (dispatch, services, activities) start and signal workflows by these names, typed
 * by these signatures, so they never import workflow code — which imports the activities' types, and activities
 * start workflows: importing the code would tie the folders into a circle. src/workflows/index.ts checks that each
 * workflow matches its signature here.
 */
export interface WorkflowSignatures {
  deliveryWorkflow: (input: DeliveryWorkflowInput) => Promise<DeliveryProgress>;
  fanoutWorkflow: (input: FanoutWorkflowInput) => Promise<number>;
  webhookHealthWorkflow: (input: WebhookHealthInput) => Promise<void>;
  recoverWebhookWorkflow: (input: RecoverWorkflowInput) => Promise<RecoveryProgress>;
  deliveryLogRetentionWorkflow: (input: LogRetentionInput) => Promise<unknown>;
}
export const workflowTypes = {
  deliveryWorkflow: 'deliveryWorkflow',
  fanoutWorkflow: 'fanoutWorkflow',
  webhookHealthWorkflow: 'webhookHealthWorkflow',
  recoverWebhookWorkflow: 'recoverWebhookWorkflow',
  deliveryLogRetentionWorkflow: 'deliveryLogRetentionWorkflow',
} as const satisfies { [K in keyof WorkflowSignatures]: K };

// Every workflow the worker registers; the worker bundles this file.
import type { WorkflowSignatures } from './messages';
import { deliveryWorkflow } from './delivery';
import { fanoutWorkflow } from './fanout';
import { webhookHealthWorkflow } from './health';
import { recoverWebhookWorkflow } from './recover';
import { deliveryLogRetentionWorkflow } from './retention';

export { deliveryWorkflow, fanoutWorkflow, webhookHealthWorkflow, recoverWebhookWorkflow, deliveryLogRetentionWorkflow };

// Callers start these by name with the signatures in messages.ts: this type fails to compile if the two differ.
type Matching<T extends WorkflowSignatures> = T;
export type RegisteredWorkflows = Matching<{
  deliveryWorkflow: typeof deliveryWorkflow;
  fanoutWorkflow: typeof fanoutWorkflow;
  webhookHealthWorkflow: typeof webhookHealthWorkflow;
  recoverWebhookWorkflow: typeof recoverWebhookWorkflow;
  deliveryLogRetentionWorkflow: typeof deliveryLogRetentionWorkflow;
}>;

// Every workflow the worker registers; the worker bundles this file.
export { deliveryWorkflow } from './delivery';
export { fanoutWorkflow } from './fanout';
export { webhookHealthWorkflow } from './health';
export { recoverWebhookWorkflow } from './recover';
export { deliveryLogRetentionWorkflow } from './retention';

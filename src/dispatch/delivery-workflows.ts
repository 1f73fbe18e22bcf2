import type { Client } from '@temporalio/client';
import {
  DeliveryWorkflowInput,
  deliveryWorkflowId,
  redeliverSignal,
  searchAttributes,
  stopDeliverySignal,
  webhookHealthWorkflowId,
  WorkflowSignatures,
  workflowTypes,
} from '../workflows/messages';
import { startOnce } from './start-deadline';
import { DeliveryKind, deliveryPriority, kindOfEvent } from './delivery-priority';
import type { FairnessWeights } from './fairness-weights';

/** Starting and steering delivery and health workflows: the one place that knows their ids and options. */
export interface StartOptions {
  /**
   * The client shares its NativeConnection with a worker of this task queue in this process: the server may hand
   * the first workflow task straight back with the start's answer (eager start), saving a poll round trip.
   */
  eagerStart?: boolean;
  /** How long a start may wait on Temporal (ms): past it the outbox rolls back its claim and tries again later. */
  deadlineMs?: number;
  /** Each organization's fairness weight; without it every organization weighs 1. */
  weights?: FairnessWeights;
}

export class DeliveryWorkflows {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly startOptions: StartOptions = {},
  ) {}

  private async options(input: DeliveryWorkflowInput, summary: string, kind: DeliveryKind) {
    const org = input.organizationId;
    return {
      workflowId: deliveryWorkflowId(input.deliveryId),
      taskQueue: this.taskQueue,
      args: [{ ...input, deliveryStatusOnDetour: true }] as [DeliveryWorkflowInput],
      // Its place in the task queue: the tenant's fair share, and people watching first (delivery-priority.ts).
      ...(org ? { priority: deliveryPriority(org, kind, await this.startOptions.weights?.of(org)) } : {}),
      // Findable in the Temporal UI by webhook, event type and vault. `DeliveryStatus` is set by the run itself, only
      // when the delivery leaves the straight path: a first-attempt success shows as Completed, nothing more.
      typedSearchAttributes: [
        { key: searchAttributes.webhookId, value: input.webhookId },
        { key: searchAttributes.eventType, value: input.eventType },
        ...(input.vaultId ? [{ key: searchAttributes.vaultId, value: input.vaultId }] : []),
      ],
      // What an operator reads first in the Temporal UI's list and header.
      staticSummary: summary,
    };
  }

  /**
   * Starts a delivery; a second start of the same delivery is a no-op, even after its workflow has finished:
   * only an explicit redeliver (or recover) may run a delivery again, so a re-dispatch after a crash never
   * re-sends a delivery that already ran.
   */
  async start(input: DeliveryWorkflowInput, summary: string, kind: DeliveryKind = kindOfEvent(input.eventType)): Promise<{ eager: boolean }> {
    const options = await this.options(input, summary, kind);
    let eager = false;
    const start = async () => {
      const handle = await this.client.workflow.start<WorkflowSignatures['deliveryWorkflow']>(workflowTypes.deliveryWorkflow, {
        ...options,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        requestEagerStart: this.startOptions.eagerStart,
      });
      eager = handle.eagerlyStarted;
    };
    await startOnce(this.client, this.startOptions.deadlineMs, start);
    return { eager };
  }

  /**
   * Attempts at once if the delivery is waiting in back-off; starts a new run if it has finished. A person asked
   * for it (interactive) unless a recovery did.
   */
  async redeliver(input: DeliveryWorkflowInput, summary: string, requestedBy: string, kind: DeliveryKind = 'interactive'): Promise<void> {
    await this.client.workflow.signalWithStart<WorkflowSignatures['deliveryWorkflow'], [{ requestedBy?: string }]>(workflowTypes.deliveryWorkflow, {
      // The input reaches the workflow only when this starts a new run: it then knows a request started it.
      ...(await this.options({ ...input, startedOnRequest: true }, summary, kind)),
      signal: redeliverSignal,
      signalArgs: [{ requestedBy }],
    });
  }

  /** Ends deliveries still waiting (their webhook was deleted or disabled). Finished ones are left alone. */
  async stop(deliveryIds: string[], reason: string): Promise<void> {
    await Promise.all(
      deliveryIds.map((id) =>
        this.client.workflow
          .getHandle(deliveryWorkflowId(id))
          .signal(stopDeliverySignal, { reason })
          .catch(() => undefined), // already closed: nothing to stop
      ),
    );
  }

  async startHealth(webhookId: string): Promise<void> {
    await startOnce(this.client, undefined, () =>
      this.client.workflow.start<WorkflowSignatures['webhookHealthWorkflow']>(workflowTypes.webhookHealthWorkflow, {
        workflowId: webhookHealthWorkflowId(webhookId),
        taskQueue: this.taskQueue,
        args: [{ webhookId }],
        typedSearchAttributes: [{ key: searchAttributes.webhookId, value: webhookId }],
        staticSummary: `Health of webhook ${webhookId}: disables it after 3 consecutive failure days`,
      }),
    );
  }
}

import { Context } from '@temporalio/activity';
import type { WorkflowSlots } from '../dispatch/workflow-slots';
import type { AttemptHooks, AttemptInput, AttemptOutcome } from './delivery';

/**
 * A request still unanswered after this long waits on its receiver, not on a core: its attempt stops counting
 * against the outbox's admission. A fast receiver's attempt counts throughout (its answer is CPU work to come).
 */
export const SLOW_REQUEST_MS = 50;

/**
 * A local attempt counts against the outbox's admission while it works (see WorkflowSlots): `wrap` counts it from
 * begin to end, `hooks.requestSent` stops counting it once its request has waited SLOW_REQUEST_MS on the receiver.
 */
export function slotAccounting(slots: WorkflowSlots) {
  const stepOf = (input: AttemptInput) => `${input.idempotencyKey}@${input.attemptedAt}`;
  const waiting = new Map<string, NodeJS.Timeout>();
  const hooks: AttemptHooks = {
    requestSent(input) {
      if (!Context.current().info.isLocal) return; // a regular activity's attempt was never counted
      const step = stepOf(input);
      waiting.set(step, setTimeout(() => slots.requestSent(step), SLOW_REQUEST_MS).unref());
    },
  };
  const wrap = (attemptDelivery: (input: AttemptInput) => Promise<AttemptOutcome>) =>
    async (input: AttemptInput): Promise<AttemptOutcome> => {
      if (!Context.current().info.isLocal) return attemptDelivery(input);
      const step = stepOf(input);
      slots.attemptBegan(input.deliveryId, step);
      try {
        return await attemptDelivery(input);
      } finally {
        clearTimeout(waiting.get(step));
        waiting.delete(step);
        slots.attemptEnded(step);
      }
    };
  return { hooks, wrap };
}

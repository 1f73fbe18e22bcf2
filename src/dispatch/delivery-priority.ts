import type { Priority } from '@temporalio/common';

/**
 * Who waits for a delivery, which decides its place in the task queue (Temporal Task Queue Priority and Fairness):
 * - `interactive`: a person is watching (ping, Test, a redelivery clicked in the page or the API) — priority 1;
 * - `live`: an event as it happens — the default priority;
 * - `recovery`: a recovery's bulk re-deliveries — the default priority under a fairness key of their own, so they
 *   share the queue with the same tenant's live events instead of holding them back (and are never starved).
 * Within a priority, tasks are dispatched in proportion to their fairness key's weight: one key per organization,
 * so one tenant's burst does not make another's events wait behind it.
 */
export type DeliveryKind = 'interactive' | 'live' | 'recovery';

export const INTERACTIVE_PRIORITY = 1;
/** Temporal's default with its default 5 levels; stated, so a recovery and a live event compare as equals. */
export const DEFAULT_PRIORITY = 3;

/** The fairness key of an organization's work of this kind (Temporal allows 64 bytes; our ids are far shorter). */
export function fairnessKey(organizationId: string, kind: DeliveryKind): string {
  return kind === 'recovery' ? `${organizationId}:recovery` : organizationId;
}

export function deliveryPriority(organizationId: string, kind: DeliveryKind, weight = 1): Priority {
  return {
    priorityKey: kind === 'interactive' ? INTERACTIVE_PRIORITY : DEFAULT_PRIORITY,
    fairnessKey: fairnessKey(organizationId, kind),
    fairnessWeight: weight,
  };
}

/** Pings are the Test button and the checks a person just asked for (create, URL change, re-enable). */
export function kindOfEvent(eventType: string): DeliveryKind {
  return eventType === 'ping' ? 'interactive' : 'live';
}

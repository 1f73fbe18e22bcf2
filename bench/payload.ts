import type { EventPayload } from '../src/domain/events';
import { specSecretCreatedData } from '../src/destinations/sample-payloads';

export const secretCreatedData = specSecretCreatedData;

/** The spec's secret.created example, as every system in the bench sends it. */
export function benchPayload(id: string): EventPayload {
  return { id, event: 'secret.created', timestamp: '2025-06-11T10:30:00Z', data: secretCreatedData };
}

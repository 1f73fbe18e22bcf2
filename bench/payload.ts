import type { EventPayload } from '../src/domain/events';

/** The spec's secret.created example, as every system in the bench sends it. */
export const secretCreatedData = {
  vaultId: 'vlt_8xK2mN',
  vaultName: 'Production',
  secretId: 'sec_5bC8eF',
  secretKey: 'NEW_API_KEY',
  type: 'api_key',
  actor: { id: 'usr_1xA2bC', name: 'Jane Developer' },
};

export function benchPayload(id: string): EventPayload {
  return { id, event: 'secret.created', timestamp: '2025-06-11T10:30:00Z', data: secretCreatedData };
}

import type { EventPayload, EventType } from '../domain/events';

/** Realistic payloads of every event type, shared by the destination tests (test data, not runtime code). */
export const SAMPLE_TIMESTAMP = '2025-06-11T10:30:00Z';
export const sampleActor = { id: 'usr_1xA2bC', name: 'Jane Developer', email: 'jane@example.com' };
export const sampleMember = { id: 'usr_9zY8xW', name: 'Sam Ops', email: 'sam@example.com', role: 'admin' };
export const sampleVault = { vaultId: 'vlt_8xK2mN', vaultName: 'Production' };

export function sampleData(event: EventType): Record<string, unknown> {
  switch (event.split('.')[0]) {
    case 'secret':
      return { ...sampleVault, secretId: 'sec_5bC8eF', secretKey: 'NEW_API_KEY', type: 'api_key', actor: sampleActor };
    case 'vault':
      return { ...sampleVault, actor: sampleActor };
    case 'member':
      return { ...sampleVault, member: sampleMember, actor: sampleActor };
    default:
      return { webhookId: 'wh_3kP9qR', message: 'Hello from CloudKeep' };
  }
}

export function samplePayload(event: EventType, data = sampleData(event)): EventPayload {
  return { id: 'evt_7xM4nQ', event, timestamp: SAMPLE_TIMESTAMP, data };
}

/** Every text field of an event's data set to `long`: for the message-size limit tests. */
export function oversizedData(event: EventType, long: string): Record<string, unknown> {
  const person = { id: long, name: long, email: long, role: long };
  return event === 'ping'
    ? { webhookId: long, message: long }
    : { vaultId: long, vaultName: long, secretId: long, secretKey: long, type: long, member: person, actor: person };
}

/** The spec's own `secret.created` example data, byte for byte (tests and the bench send it). */
export const specSecretCreatedData = {
  vaultId: 'vlt_8xK2mN',
  vaultName: 'Production',
  secretId: 'sec_5bC8eF',
  secretKey: 'NEW_API_KEY',
  type: 'api_key',
  actor: { id: 'usr_1xA2bC', name: 'Jane Developer' },
};

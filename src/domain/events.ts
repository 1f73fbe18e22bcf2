import { z } from 'zod';

/** The spec's event table. `ping` is sent by CloudKeep itself and can never be subscribed to. */
export const SUBSCRIBABLE_EVENT_TYPES = [
  'secret.created',
  'secret.updated',
  'secret.deleted',
  'vault.created',
  'vault.updated',
  'vault.deleted',
  'member.added',
  'member.removed',
] as const;
export const EVENT_TYPES = [...SUBSCRIBABLE_EVENT_TYPES, 'ping'] as const;

export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

const id = (prefix: string) => z.string().min(1).max(128).describe(`${prefix}… identifier`);
const name = z.string().min(1).max(10_000);

export const actorSchema = z.strictObject({ id: id('usr_'), name: name.optional(), email: z.string().max(320).optional() });

const vaultRef = { vaultId: id('vlt_'), vaultName: name.optional() };

/** Metadata of a secret: never its value (the spec's note under the example payload). */
const secretData = z.strictObject({
  ...vaultRef,
  secretId: id('sec_'),
  secretKey: name,
  type: z.string().min(1).max(64).optional(),
  actor: actorSchema.optional(),
});
const vaultData = z.strictObject({ ...vaultRef, actor: actorSchema.optional() });
const memberData = z.strictObject({
  ...vaultRef,
  member: z.strictObject({ id: id('usr_'), name: name.optional(), email: z.string().max(320).optional(), role: z.string().max(64).optional() }),
  actor: actorSchema.optional(),
});
const pingData = z.strictObject({ webhookId: z.string(), message: z.string() });

export const eventDataSchemas = {
  'secret.created': secretData,
  'secret.updated': secretData,
  'secret.deleted': secretData,
  'vault.created': vaultData,
  'vault.updated': vaultData,
  'vault.deleted': vaultData,
  'member.added': memberData,
  'member.removed': memberData,
  ping: pingData,
} satisfies Record<EventType, z.ZodType>;

export type SecretEventData = z.infer<typeof secretData>;
export type VaultEventData = z.infer<typeof vaultData>;
export type MemberEventData = z.infer<typeof memberData>;
export type PingEventData = z.infer<typeof pingData>;

/** The exact body of a generic delivery: the spec's example payload shape. */
export interface EventPayload {
  id: string;
  event: EventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The vault an event is about, if its data names one (webhooks filter on it; deliveries are searchable by it). */
export function vaultIdOf(data: Record<string, unknown>): string | undefined {
  return typeof data.vaultId === 'string' ? data.vaultId : undefined;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Field names that would carry a secret's value. The spec promises payloads never include one, so
 * ingest refuses (422) any event with such a field anywhere in `data`, rather than strip it silently.
 */
const VALUE_FIELD = /^(value|secretvalue|secret_value|plaintext|ciphertext)$/i;

/** Returns the JSON path of the first value-bearing field in `data`, or null. */
export function findSecretValueField(data: unknown, path = 'data'): string | null {
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      const hit = findSecretValueField(data[i], `${path}[${i}]`);
      if (hit) return hit;
    }
    return null;
  }
  if (data && typeof data === 'object') {
    for (const [key, child] of Object.entries(data)) {
      if (VALUE_FIELD.test(key)) return `${path}.${key}`;
      const hit = findSecretValueField(child, `${path}.${key}`);
      if (hit) return hit;
    }
  }
  return null;
}

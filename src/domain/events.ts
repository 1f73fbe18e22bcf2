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

/** What each event means, for the event catalog (`GET /v1/event-types`). */
export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  'secret.created': 'A secret was added to a vault (metadata only, never its value).',
  'secret.updated': "A secret's value or metadata changed (metadata only, never its value).",
  'secret.deleted': 'A secret was deleted from a vault.',
  'vault.created': 'A vault was created.',
  'vault.updated': "A vault's name or settings changed.",
  'vault.deleted': 'A vault was deleted.',
  'member.added': 'A user was given access to a vault.',
  'member.removed': "A user's access to a vault was removed.",
  ping: 'Sent by CloudKeep when a webhook is created, its URL changes or Test is pressed; cannot be subscribed to.',
};

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

/**
 * An event time within the years 0001–9999 once in UTC: what ISO 8601 writes with four digits and what the whole
 * path (PostgreSQL, JavaScript, receivers' parsers) reads back alike. PostgreSQL stores earlier years as BC and
 * later ones with five digits, both forms `new Date()` cannot parse.
 */
export function isDeliverableYear(date: Date): boolean {
  const year = date.getUTCFullYear();
  return Number.isInteger(year) && year >= 1 && year <= 9999;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Field names that would carry a secret's value. The spec promises payloads never include one, so
 * ingest refuses (422) any event with such a field anywhere in `data`, rather than strip it silently.
 */
const VALUE_FIELD = /^(value|secretvalue|secret_value|plaintext|ciphertext)$/i;

/** Deeper than any event's data can validly be; the walk below stops there rather than recurse without end. */
const MAX_DATA_DEPTH = 32;

/**
 * Returns the JSON path of the first value-bearing field in `data` (in document order), or null.
 * Iterative and depth-bounded, so hostile nesting cannot overflow the stack.
 */
export function findSecretValueField(data: unknown, path = 'data'): string | null {
  const pending: { value: unknown; path: string; key?: string; depth: number }[] = [{ value: data, path, depth: 0 }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (item.key !== undefined && VALUE_FIELD.test(item.key)) return item.path;
    const { value, depth } = item;
    if (!value || typeof value !== 'object' || depth >= MAX_DATA_DEPTH) continue;
    const children = Array.isArray(value)
      ? value.map((child, i) => ({ value: child, path: `${item.path}[${i}]`, depth: depth + 1 }))
      : Object.entries(value).map(([key, child]) => ({ value: child, path: `${item.path}.${key}`, key, depth: depth + 1 }));
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
  }
  return null;
}

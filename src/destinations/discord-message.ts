import { fitEscaped, readEventFields } from './event-fields';
import type { EventPayload, EventType } from '../domain/events';

export const COLOUR_CREATED = 0x2ecc71; // green
export const COLOUR_UPDATED = 0xf1c40f; // yellow
export const COLOUR_DELETED = 0xe74c3c; // red
export const COLOUR_NEUTRAL = 0x95a5a6; // grey

/** Discord's embed limits, in characters. */
export const DISCORD_LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  total: 6000,
} as const;

export interface DiscordEmbedField {
  name: string;
  value: string;
  inline?: boolean;
}
export interface DiscordEmbed {
  title: string;
  description: string;
  color: number;
  fields: DiscordEmbedField[];
  timestamp?: string;
  footer: { text: string };
}
export interface DiscordMessage {
  embeds: DiscordEmbed[];
  allowed_mentions: { parse: Array<'roles' | 'users' | 'everyone'> };
}

// A Record (not string matching) so a new event type fails to compile until it gets a colour.
const COLOURS: Record<EventType, number> = {
  'secret.created': COLOUR_CREATED,
  'secret.updated': COLOUR_UPDATED,
  'secret.deleted': COLOUR_DELETED,
  'vault.created': COLOUR_CREATED,
  'vault.updated': COLOUR_UPDATED,
  'vault.deleted': COLOUR_DELETED,
  'member.added': COLOUR_CREATED,
  'member.removed': COLOUR_DELETED,
  ping: COLOUR_NEUTRAL,
};

export function embedColour(event: EventType): number {
  return COLOURS[event];
}

const FOOTER = 'CloudKeep Webhooks';
// Per-value caps (after escaping). With every value at its cap the embed stays under 5,600 chars,
// inside Discord's 6,000 total, so no global rebalancing is needed.
const ID_MAX = 100;
const NAME_MAX = 900;
const SENTENCE_PIECE_MAX = 300;
const PING_MESSAGE_MAX = 2000;

// Markdown that could restyle the embed, fake a masked link ([text](url)) or render a mention.
const MARKDOWN = new Set(['\\', '*', '_', '~', '`', '|', '[', ']', '<', '>', '#', '-']);
const escapeMd = (ch: string): string => (MARKDOWN.has(ch) ? `\\${ch}` : ch);
const asIs = (ch: string): string => ch;

const fit = (raw: string, max: number, escape: (ch: string) => string = escapeMd): string => fitEscaped(raw, max, escape);

function isoTimestamp(timestamp: string): string | undefined {
  const t = new Date(timestamp);
  // Discord rejects the whole message for a bad timestamp, so an unparseable one is left out.
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export function buildDiscordMessage(payload: EventPayload): DiscordMessage {
  const { event } = payload;
  // Only named metadata fields are read (event-fields.ts): anything else in `data` never reaches Discord.
  const { vaultId, vaultName, secretKey, secretType, memberName, memberRole, actor, message, webhookId } = readEventFields(payload.data);
  const fields: DiscordEmbedField[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value) fields.push({ name, value, inline: true });
  };
  let title: string = event;
  let description: string;

  if (event === 'ping') {
    description = fit(message ?? 'Test event from CloudKeep.', PING_MESSAGE_MAX);
    add('Webhook', webhookId && fit(webhookId, ID_MAX));
  } else {
    const [family, action] = event.split('.');
    const vault = vaultName ?? vaultId ?? 'unknown';
    const subject = family === 'secret' ? secretKey : family === 'member' ? memberName : vault;
    const prefix = `${event} · `;
    if (subject) title = prefix + fit(subject, DISCORD_LIMITS.title - prefix.length, asIs);

    const bold = (raw: string | undefined) => `**${fit(raw ?? 'unknown', SENTENCE_PIECE_MAX)}**`;
    const by = actor ? ` by ${fit(actor, SENTENCE_PIECE_MAX)}` : '';
    if (family === 'secret') description = `Secret ${bold(secretKey)} was ${action} in vault ${bold(vault)}${by}.`;
    else if (family === 'vault') description = `Vault ${bold(vault)} was ${action}${by}.`;
    else if (event === 'member.added') description = `${bold(memberName)} was added to vault ${bold(vault)}${by}.`;
    else description = `${bold(memberName)} was removed from vault ${bold(vault)}${by}.`;

    const vaultParts = [vaultName && fit(vaultName, NAME_MAX), vaultId && `(${fit(vaultId, ID_MAX)})`];
    add('Vault', vaultParts.filter(Boolean).join(' '));
    add('Secret key', secretKey && fit(secretKey, DISCORD_LIMITS.fieldValue));
    add('Secret type', secretType && fit(secretType, ID_MAX));
    add('Member', memberName && fit(memberName, NAME_MAX) + (memberRole ? ` (${fit(memberRole, ID_MAX)})` : ''));
    add('Actor', actor && fit(actor, DISCORD_LIMITS.fieldValue));
  }
  add('Event ID', fit(payload.id, ID_MAX));

  return {
    embeds: [
      {
        title,
        description,
        color: embedColour(event),
        fields: fields.slice(0, DISCORD_LIMITS.fields),
        timestamp: isoTimestamp(payload.timestamp),
        footer: { text: FOOTER },
      },
    ],
    // User text may contain @everyone or <@id>; never let it notify anyone.
    allowed_mentions: { parse: [] },
  };
}

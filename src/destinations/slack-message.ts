import type { EventPayload } from '../domain/events';
import { fitEscaped, readEventFields } from './event-fields';

/** Slack's Block Kit and message limits, in characters. */
export const SLACK_LIMITS = { headerText: 150, fieldText: 2000, fields: 10, blockText: 3000, messageText: 40_000 } as const;

export interface SlackPlainText {
  type: 'plain_text';
  text: string;
}
export interface SlackMrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock =
  | { type: 'header'; text: SlackPlainText }
  | { type: 'section'; text?: SlackMrkdwn; fields?: SlackMrkdwn[] }
  | { type: 'context'; elements: SlackMrkdwn[] };

/** An incoming-webhook body: `text` is the notification fallback, `blocks` what the channel shows. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

// Per-value caps (after escaping). They keep every field under 2,000 chars with its label and id,
// and the fallback text far under 40,000, whatever the input.
const ID_MAX = 200;
const VALUE_MAX = 1500;
const TEXT_PIECE_MAX = 300;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeChar = (ch: string): string => ENTITIES[ch] ?? ch;

/** Escapes `raw` for Slack's mrkdwn (`&`, `<`, `>`) and fits it in `max` chars. */
export function mrkdwn(raw: string, max: number): string {
  return fitEscaped(raw, max, escapeChar);
}

const mrkdwnText = (text: string): SlackMrkdwn => ({ type: 'mrkdwn', text });
const field = (label: string, value: string): SlackMrkdwn => mrkdwnText(`*${label}*\n${value}`);
const isField = (f: SlackMrkdwn | '' | undefined): f is SlackMrkdwn => !!f;
const code = (raw: string): string => `\`${mrkdwn(raw, ID_MAX)}\``;

/** Slack renders `<!date…>` in each reader's time zone; the part after `|` is the fallback. */
function time(timestamp: string): string {
  const t = new Date(timestamp);
  if (Number.isNaN(t.getTime())) return mrkdwn(timestamp, ID_MAX);
  return `<!date^${Math.floor(t.getTime() / 1000)}^{date_short_pretty} at {time}|${t.toISOString()}>`;
}

export function buildSlackMessage(payload: EventPayload): SlackMessage {
  const { event } = payload;
  // Only named metadata fields are read (event-fields.ts): anything else in `data` never reaches Slack.
  const { vaultId, vaultName, secretKey, secretType, memberName, memberRole, actor, message: pingMessage, webhookId } = readEventFields(payload.data);
  const header: SlackBlock = { type: 'header', text: { type: 'plain_text', text: event.slice(0, SLACK_LIMITS.headerText) } };
  const context: SlackBlock = { type: 'context', elements: [mrkdwnText(`Event ${code(payload.id)}`)] };

  if (event === 'ping') {
    const message = pingMessage ?? 'ping';
    const fields = [webhookId && field('Webhook', code(webhookId)), field('Time', time(payload.timestamp))];
    return {
      text: `ping: ${mrkdwn(message, TEXT_PIECE_MAX)}`,
      blocks: [
        header,
        { type: 'section', text: mrkdwnText(mrkdwn(message, SLACK_LIMITS.blockText)), fields: fields.filter(isField) },
        context,
      ],
    };
  }

  const vaultValue = [vaultName && mrkdwn(vaultName, VALUE_MAX), vaultId && `(${code(vaultId)})`].filter(Boolean).join(' ');
  const fields = [
    vaultValue && field('Vault', vaultValue),
    secretKey && field('Secret key', mrkdwn(secretKey, VALUE_MAX)),
    secretType && field('Secret type', mrkdwn(secretType, ID_MAX)),
    memberName && field('Member', mrkdwn(memberName, VALUE_MAX) + (memberRole ? ` (${mrkdwn(memberRole, ID_MAX)})` : '')),
    actor && field('Actor', mrkdwn(actor, VALUE_MAX)),
    field('Time', time(payload.timestamp)),
  ].filter(isField);

  // Fallback text, e.g. "secret.created: NEW_API_KEY in Production by Jane Developer".
  const family = event.split('.')[0];
  const vault = vaultName ?? vaultId;
  const subject = family === 'secret' ? secretKey : family === 'member' ? memberName : vault;
  const piece = (raw: string) => mrkdwn(raw, TEXT_PIECE_MAX);
  let text = `${event}:${subject ? ` ${piece(subject)}` : ''}`;
  if (family !== 'vault' && vault) text += ` in ${piece(vault)}`;
  if (actor) text += ` by ${piece(actor)}`;

  return {
    text,
    blocks: [header, { type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields) }, context],
  };
}

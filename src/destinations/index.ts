import type { EventPayload } from '../domain/events';
import { SIGNATURE_HEADER, signBody } from '../domain/signature';
import { standardWebhooksHeaders } from '../domain/standard-webhooks';
import type { Destination } from '../db/stores/webhooks';
import type { OutboundRequest } from '../delivery/http-sender';
import { buildDiscordMessage } from './discord-message';
import { buildSlackMessage } from './slack-message';

export const USER_AGENT = 'CloudKeep-Webhooks/1.0 (+https://cloudkeep.io/docs/webhooks)';

/** The exact bytes of a generic delivery: the spec's payload, keys in the spec's order. */
export function serializePayload(payload: EventPayload): string {
  return JSON.stringify({ id: payload.id, event: payload.event, timestamp: payload.timestamp, data: payload.data });
}

export interface RequestContext {
  url: string;
  secret: string;
  deliveryId: string;
  /** Generic webhooks that opted in also get the Standard Webhooks headers, stamped with this time (unix seconds). */
  standardWebhooks?: { timestampSeconds: number };
}

/**
 * What goes on the wire for each destination. Generic endpoints get the spec's payload and the HMAC
 * headers; Slack and Discord get the body their APIs expect and nothing secret (no signature: they
 * cannot verify it, and the URL itself is their credential).
 */
export function buildRequest(destination: Destination, payload: EventPayload, ctx: RequestContext): OutboundRequest {
  const common = { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT };
  switch (destination) {
    case 'generic': {
      const body = serializePayload(payload);
      return {
        url: ctx.url,
        body,
        headers: {
          ...common,
          'X-CloudKeep-Event': payload.event,
          'X-CloudKeep-Delivery': ctx.deliveryId,
          [SIGNATURE_HEADER]: signBody(body, ctx.secret),
          ...(ctx.standardWebhooks
            ? standardWebhooksHeaders({ id: ctx.deliveryId, timestampSeconds: ctx.standardWebhooks.timestampSeconds, body, secret: ctx.secret })
            : {}),
        },
      };
    }
    case 'slack':
      return { url: ctx.url, headers: common, body: JSON.stringify(buildSlackMessage(payload)) };
    case 'discord':
      return { url: ctx.url, headers: common, body: JSON.stringify(buildDiscordMessage(payload)) };
    default:
      // A stored value this code does not know (a row written by a newer version, or by hand).
      throw new Error(`unknown destination "${String(destination satisfies never)}"`);
  }
}

/** What the log may show of a Slack or Discord URL: its path carries the channel's token. */
export function redactUrl(destination: Destination, url: string): string {
  if (destination === 'generic') return url;
  const u = new URL(url);
  const parts = u.pathname.split('/');
  if (parts.length > 2) parts[parts.length - 1] = '••••••';
  return `${u.origin}${parts.join('/')}`;
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../config';
import type { WebhookRow } from '../db/stores/webhooks';
import { SecretBox } from '../domain/secret-box';
import { newId } from '../domain/ids';
import { AppError, ConflictError, ForbiddenError, ServiceUnavailableError } from '../errors';
import type { WebhookService } from '../services/webhooks';

/**
 * "Connect to Slack": Slack OAuth v2 with the `incoming-webhook` scope. The user picks a channel on
 * Slack's screen; the code Slack hands back is exchanged for that channel's incoming-webhook URL, which
 * becomes a webhook with destination `slack`.
 *
 * The OAuth `state` is `v1.<requestId>.<organizationId>.<expiresAtSeconds>.<hmac>`: signed (HMAC-SHA256,
 * key derived from the secret-encryption key), expiring after 10 minutes, bound to the organization,
 * and naming a `slack_oauth_requests` row that holds the chosen events and makes the state single-use.
 */
export const SLACK_SCOPE = 'incoming-webhook';
export const STATE_TTL_MS = 10 * 60_000;
const STATE_VERSION = 'v1';
const STATE_LABEL = 'slack-oauth-state';
const EXCHANGE_TIMEOUT_MS = 10_000;
const FIELD = 'query.state';

export type SlackConfig = Config['slack'];

/** The state-signing key, derived from the secret-encryption key: no new secret to manage. */
export function stateKeyFrom(secretBox: SecretBox): Buffer {
  return secretBox.deriveKey(STATE_LABEL);
}

/**
 * Every key a state may have been signed with, the current one first: during an encryption-key rotation another API
 * process may still sign with the key this one has just stopped sealing with.
 */
export function stateVerificationKeysFrom(secretBox: SecretBox): Buffer[] {
  return secretBox.deriveKeys(STATE_LABEL);
}

/** The same key from the raw 32-byte encryption key (tests sign states with it, or with another one). */
export function deriveStateKey(encryptionKey: Buffer): Buffer {
  return stateKeyFrom(new SecretBox(encryptionKey.toString('base64')));
}

export interface StateClaims {
  requestId: string;
  organizationId: string;
  /** Epoch milliseconds (whole seconds). */
  expiresAt: number;
}

const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(body).digest();

export function signState(key: Buffer, claims: StateClaims): string {
  const body = [STATE_VERSION, claims.requestId, claims.organizationId, Math.floor(claims.expiresAt / 1000)].join('.');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** The claims of a state this service signed, or null for anything else (forged, altered, malformed). */
export function verifyState(key: Buffer, state: string): StateClaims | null {
  const parts = state.split('.');
  if (parts.length !== 5) return null;
  const [version, requestId, organizationId, expires, signature] = parts as [string, string, string, string, string];
  if (version !== STATE_VERSION || !/^\d{1,12}$/.test(expires) || !requestId || !organizationId) return null;
  const expected = mac(key, parts.slice(0, 4).join('.'));
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { requestId, organizationId, expiresAt: Number(expires) * 1000 };
}

export interface SlackAuthorizeInput {
  events: string[];
  description?: string;
  vaultIds?: string[] | null;
}

export interface SlackCallbackInput {
  state: string;
  code?: string;
  /** Slack sends `error` (e.g. access_denied) instead of `code` when the user cancels. */
  error?: string;
}

export interface SlackOAuthDeps {
  db: Knex;
  slack: SlackConfig;
  stateKey: Buffer;
  /** Keys a state is also accepted under (the key ring's other keys); the state key alone when absent. */
  stateVerificationKeys?: Buffer[];
  webhooks: WebhookService;
  now?: () => number;
}

interface RequestRow {
  id: string;
  organization_id: string;
  events: string[];
  description: string | null;
  vault_ids: string[] | null;
  expires_at: Date;
  used_at: Date | null;
}

interface SlackOAuthAccess {
  ok?: boolean;
  error?: string;
  incoming_webhook?: { url?: string; channel?: string; channel_id?: string };
}

function stateError(status: number, type: string, detail: string, message: string): AppError {
  return new AppError(status, type, detail, [{ field: FIELD, message }]);
}

const RESTART = 'start again with POST /v1/integrations/slack/authorize';

export class SlackOAuthService {
  private readonly now: () => number;

  constructor(private readonly deps: SlackOAuthDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Client id, secret and redirect URL, or a 503 naming what to set: a missing set-up is not a crash. */
  private configured(): { clientId: string; clientSecret: string; redirectUrl: string } {
    const { clientId, clientSecret, redirectUrl } = this.deps.slack;
    if (!clientId || !clientSecret || !redirectUrl) {
      throw new ServiceUnavailableError('Slack integration is not configured: set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_REDIRECT_URL');
    }
    return { clientId, clientSecret, redirectUrl };
  }

  /** Records the user's choices and returns the Slack URL to send the user's browser to. */
  async authorize(organizationId: string, input: SlackAuthorizeInput): Promise<{ authorizeUrl: string; state: string; expiresAt: string }> {
    const { clientId, redirectUrl } = this.configured();
    const { db } = this.deps;
    const id = newId('slo');
    // Whole seconds, as the state carries them, so the row and the state agree exactly.
    const expiresAt = Math.floor((this.now() + STATE_TTL_MS) / 1000) * 1000;
    await db('slack_oauth_requests').insert({
      id,
      organization_id: organizationId,
      events: JSON.stringify(input.events),
      description: input.description ?? null,
      vault_ids: input.vaultIds ? JSON.stringify(input.vaultIds) : null,
      expires_at: new Date(expiresAt),
    });
    // Housekeeping: requests that ended long ago are of no further use.
    await db('slack_oauth_requests').where('expires_at', '<', new Date(this.now() - 24 * 3600_000)).delete();

    const state = signState(this.deps.stateKey, { requestId: id, organizationId, expiresAt });
    const url = new URL(this.deps.slack.authorizeUrl);
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('scope', SLACK_SCOPE);
    url.searchParams.set('redirect_uri', redirectUrl);
    url.searchParams.set('state', state);
    return { authorizeUrl: url.toString(), state, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Slack's redirect back: checks the state (signature, organization, expiry, single use), exchanges
   * the code for the channel's incoming-webhook URL and creates the webhook. `caller` is the API key's
   * organization when the request carried one (it must be the state's), or null from a plain browser.
   */
  async complete(input: SlackCallbackInput, caller: { organizationId: string; kind: string } | null): Promise<WebhookRow> {
    const { clientId, clientSecret, redirectUrl } = this.configured();
    const claims = (this.deps.stateVerificationKeys ?? [this.deps.stateKey]).reduce<StateClaims | null>((found, key) => found ?? verifyState(key, input.state), null);
    if (!claims) throw stateError(400, 'validation', `${FIELD}: is not a state this service issued; ${RESTART}`, 'is not a valid Slack authorisation state');
    if (caller && caller.kind !== 'admin') throw new ForbiddenError('Connecting Slack needs an admin API key, not the event-ingest token');
    if (caller && caller.organizationId !== claims.organizationId) {
      throw stateError(403, 'forbidden', `${FIELD}: this Slack authorisation was started by another organization`, 'belongs to another organization');
    }
    if (claims.expiresAt <= this.now()) throw this.expired();
    if (input.error) {
      throw new AppError(400, 'slack-authorisation-refused', `Slack did not authorise the connection (${input.error}); ${RESTART}`, [
        { field: 'query.error', message: `Slack answered ${input.error}` },
      ]);
    }
    if (!input.code) throw new AppError(400, 'validation', 'query.code: is required', [{ field: 'query.code', message: 'is required' }]);

    const request = await this.claim(claims);
    const hook = await this.exchange(input.code, { clientId, clientSecret, redirectUrl });
    const { webhook } = await this.deps.webhooks.create(request.organization_id, {
      url: hook.url,
      destination: 'slack',
      events: request.events,
      description: request.description ?? undefined,
      vaultIds: request.vault_ids,
      slackChannel: hook.channel ?? hook.channel_id ?? null,
    });
    await this.deps.db('slack_oauth_requests').where({ id: request.id }).update({ webhook_id: webhook.id });
    return webhook;
  }

  private expired(): AppError {
    return stateError(400, 'state-expired', `${FIELD}: this Slack authorisation has expired (it is valid for 10 minutes); ${RESTART}`, 'has expired');
  }

  /** Marks the request used, atomically: of two callbacks with one state, exactly one proceeds. */
  private async claim(claims: StateClaims): Promise<RequestRow> {
    const { db } = this.deps;
    const [claimed] = await db<RequestRow>('slack_oauth_requests')
      .where({ id: claims.requestId, organization_id: claims.organizationId })
      .whereNull('used_at')
      .where('expires_at', '>', new Date(this.now()))
      .update({ used_at: new Date(this.now()) })
      .returning('*');
    if (claimed) return claimed;
    const row = await db<RequestRow>('slack_oauth_requests').where({ id: claims.requestId, organization_id: claims.organizationId }).first();
    if (!row) throw stateError(400, 'validation', `${FIELD}: does not match any Slack authorisation in progress; ${RESTART}`, 'is unknown');
    if (row.used_at) throw new ConflictError(FIELD, `has already been used to connect Slack; ${RESTART}`);
    throw this.expired();
  }

  /** oauth.v2.access: the code for the incoming webhook. Any refusal by Slack is a 502 naming Slack's error. */
  private async exchange(code: string, app: { clientId: string; clientSecret: string; redirectUrl: string }): Promise<{ url: string; channel?: string; channel_id?: string }> {
    const endpoint = `${this.deps.slack.apiUrl.replace(/\/+$/, '')}/oauth.v2.access`;
    const slackError = (detail: string, message: string) => new AppError(502, 'slack-error', detail, [{ field: 'query.code', message }]);
    let status: number;
    let body: SlackOAuthAccess | null;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, code, redirect_uri: app.redirectUrl }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
      });
      status = res.status;
      body = (await res.json().catch(() => null)) as SlackOAuthAccess | null;
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${EXCHANGE_TIMEOUT_MS / 1000} s` : (err as Error).message;
      throw slackError(`Could not reach Slack to finish the connection (${reason}); try again`, 'could not be exchanged: Slack did not answer');
    }
    if (!body || typeof body !== 'object') throw slackError(`Slack answered HTTP ${status} without a JSON body; try again`, 'could not be exchanged');
    if (body.ok !== true) {
      const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
      throw slackError(`Slack refused the authorisation code: ${error}; ${RESTART}`, `Slack answered ${error}`);
    }
    const hook = body.incoming_webhook;
    if (!hook || typeof hook.url !== 'string') {
      throw slackError(`Slack did not return an incoming webhook; the Slack app must request the ${SLACK_SCOPE} scope`, 'gave no incoming webhook');
    }
    return { url: hook.url, channel: hook.channel, channel_id: hook.channel_id };
  }
}

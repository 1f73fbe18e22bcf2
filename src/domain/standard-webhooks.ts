import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signatures, sent besides X-CloudKeep-Signature-256 when a
 * generic webhook opts in. The spec keys the HMAC with the secret's bytes: a `whsec_` prefix is dropped and the
 * rest is base64-decoded, which is what every Standard Webhooks verifier does with the secret string. So only
 * secrets of that shape can be verified by them; ours are generated that way.
 */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';
/** The spec asks for secrets of 24 to 64 bytes. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

export const STANDARD_WEBHOOKS_SECRET_RULE = `must be ${STANDARD_WEBHOOKS_SECRET_PREFIX} followed by the base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`;

/** The HMAC key a Standard Webhooks verifier derives from `secret`, or null when it cannot derive one. */
export function standardWebhooksKey(secret: string): Buffer | null {
  if (!secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) return null;
  const encoded = secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : null;
}

export const isStandardWebhooksSecret = (secret: string): boolean => standardWebhooksKey(secret) !== null;

/** The three headers for one attempt: the id is stable across retries, the timestamp is the attempt's. */
export function standardWebhooksHeaders(input: { id: string; timestampSeconds: number; body: string; secret: string }): Record<string, string> {
  const key = standardWebhooksKey(input.secret);
  if (!key) throw new Error(`The webhook's secret is not a Standard Webhooks secret (it ${STANDARD_WEBHOOKS_SECRET_RULE})`);
  const signature = createHmac('sha256', key).update(`${input.id}.${input.timestampSeconds}.${input.body}`, 'utf8').digest('base64');
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}

import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-CloudKeep-Signature-256';

/** `sha256=<hex HMAC-SHA256 of the exact raw body>`, the value the spec's verifyWebhook expects. */
export function signBody(body: string, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf-8').digest('hex');
}

/**
 * `whsec_` + 32 random bytes in standard base64: what a webhook gets when the owner gives no secret. Standard
 * base64 (not base64url) so Standard Webhooks verifiers, which base64-decode the secret, accept it as it is.
 */
export function generateWebhookSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64');
}

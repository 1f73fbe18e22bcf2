import crypto from 'node:crypto';

/** The spec's verifyWebhook, exactly as the Webhooks page shows it to users: every delivery must pass it. */
export function verifyWebhook(body: string, signature: string, secret: string): boolean {
  const expected = "sha256=" + crypto
    .createHmac("sha256", secret)
    .update(body, "utf-8")
    .digest("hex")
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expected)
  )
}

// A receiver for CloudKeep Webhooks deliveries, on Node's standard library only (node:http, node:crypto).
// Run: WEBHOOK_SECRET=whsec_… [WEBHOOK_SCHEME=cloudkeep|standard] [PORT=8080] [HOST=127.0.0.1] node receiver.mjs
// Answers 200 to a delivery whose signature verifies and 400 to anything else; prints one JSON line per request.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.WEBHOOK_SECRET ?? '';
const scheme = process.env.WEBHOOK_SCHEME ?? 'cloudkeep';
const TOLERANCE_SECONDS = 5 * 60; // Standard Webhooks: refuse a webhook-timestamp further than this from our clock
const MAX_BODY_BYTES = 1024 * 1024;
if (!secret) throw new Error('Set WEBHOOK_SECRET to the webhook secret shown when the webhook was created');
if (scheme !== 'cloudkeep' && scheme !== 'standard') throw new Error('WEBHOOK_SCHEME must be cloudkeep or standard');

/** Constant-time comparison: how long it takes must not tell an attacker how much of a forgery was right. */
function safeEqual(received, expected) {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** X-CloudKeep-Signature-256: `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the secret string. */
function verifyCloudKeep(headers, body) {
  const signature = headers['x-cloudkeep-signature-256'];
  if (!signature) return 'missing X-CloudKeep-Signature-256';
  const expected = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  return safeEqual(signature, expected) ? null : 'signature mismatch';
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the base64-decoded secret. */
function verifyStandard(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return 'missing webhook-id, webhook-timestamp or webhook-signature';
  if (!/^\d+$/.test(timestamp)) return 'webhook-timestamp is not a number';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return 'webhook-timestamp too old or too new';
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  // The header is a space-separated list; any one matching is enough.
  return signatures.split(' ').some((signature) => safeEqual(signature, expected)) ? null : 'signature mismatch';
}

/** Event ids already handled: a retry, a redelivery or a replayed request is acknowledged, not acted on twice. */
const handled = new Set();

function handle(req, body) {
  if (req.method !== 'POST') return [405, { rejected: 'POST only' }];
  const problem = scheme === 'standard' ? verifyStandard(req.headers, body) : verifyCloudKeep(req.headers, body);
  if (problem) return [400, { rejected: problem }];
  let event; // parsed only now that the bytes are known to be ours
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    return [400, { rejected: 'body is not JSON' }];
  }
  if (handled.has(event.id)) return [200, { duplicate: event.id }];
  handled.add(event.id);
  // Act on the event here (queue it, preferably: answer within 10 seconds or the delivery counts as failed).
  return [200, { accepted: event.id, event: event.event }];
}

const server = createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    const [status, result] = size > MAX_BODY_BYTES ? [413, { rejected: 'body too large' }] : handle(req, Buffer.concat(chunks));
    console.log(JSON.stringify(result));
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(result));
  });
});
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port, scheme }));
});

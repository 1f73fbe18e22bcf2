/**
 * The receivers docs/receiving.md shows (examples/receivers/: Node, Python and Go, standard libraries only) run as
 * real processes against real deliveries from the stack, in both signing schemes; then against requests sent to
 * them directly and signed with our own signing code: a changed body, a replay, a stale or future timestamp.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateWebhookSecret, signBody } from '../src/domain/signature';
import { standardWebhooksHeaders } from '../src/domain/standard-webhooks';
import { buildGoReceiver, EXAMPLES_DIR, ExampleReceiver, requireTool, tempDir } from './support/example-receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';

let stack: Stack;
let org: Org;
let buildDir: string;
const commands: Record<string, () => [string, string[]]> = {};
const running: ExampleReceiver[] = [];

beforeAll(async () => {
  buildDir = tempDir('ckw-receivers-');
  const python = requireTool('python3', ['/root/.pyenv/shims/python3', '/usr/bin/python3'], 'run examples/receivers/python');
  const go = requireTool('go', ['/usr/local/go/bin/go'], 'build examples/receivers/go');
  const goReceiver = await buildGoReceiver(go, buildDir);
  commands.Node = () => [process.execPath, [path.join(EXAMPLES_DIR, 'node', 'receiver.mjs')]];
  commands.Python = () => [python, [path.join(EXAMPLES_DIR, 'python', 'receiver.py')]];
  commands.Go = () => [goReceiver, []];
  stack = await createStack();
  org = await stack.createOrg();
});
afterAll(async () => {
  for (const receiver of running) await receiver.stop();
  await stack?.close();
  fs.rmSync(buildDir, { recursive: true, force: true });
});

async function startReceiver(language: string, env: { WEBHOOK_SECRET: string; WEBHOOK_SCHEME: 'cloudkeep' | 'standard' }) {
  const [command, args] = commands[language]();
  const receiver = new ExampleReceiver(command, args);
  running.push(receiver);
  return receiver.start(env);
}

/** A webhook to the receiver with the given secret; the receiver has verified its ping once it is active. */
async function createWebhook(receiver: ExampleReceiver, secret: string, standardWebhooks: boolean): Promise<string> {
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/hooks/cloudkeep`, events: ['secret.created'], secret, standardWebhooks });
  expect(created.status).toBe(201);
  await waitFor(async () => (await stack.api('GET', `/v1/webhooks/${created.body.id}`, org.apiKey)).body.status === 'active', 'the ping to make the webhook active');
  return created.body.id;
}

interface LoggedAttempt {
  request: { headers: Record<string, string>; body: string };
  response: { status: number; body: string };
}

/** Ingests a secret.created event and waits for the Delivery Log to show it delivered to `webhookId`. */
async function deliverEvent(webhookId: string): Promise<{ eventId: string; attempt: LoggedAttempt }> {
  const ingested = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(ingested.status).toBe(202);
  const eventId: string = ingested.body.id;
  const delivery = await waitFor(async () => {
    const log = await stack.api('GET', `/v1/webhooks/${webhookId}/deliveries?event=secret.created`, org.apiKey);
    return log.body.data.find((d: { eventId: string; status: string }) => d.eventId === eventId && d.status === 'succeeded');
  }, 'the Delivery Log to show the event delivered');
  const detail = await stack.api('GET', `/v1/deliveries/${delivery.id}`, org.apiKey);
  expect(detail.body.attempts).toHaveLength(1);
  return { eventId, attempt: detail.body.attempts[0] };
}

/** Another event's exact bytes, as our sender serializes them. */
const eventBody = (id: string, timestamp: Date) =>
  JSON.stringify({ id, event: 'secret.created', timestamp: timestamp.toISOString().replace('.000Z', 'Z'), data: secretCreatedData });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(['Node', 'Python', 'Go'])('the %s receiver', (language) => {
  it('accepts real X-CloudKeep-Signature-256 deliveries and refuses a changed body or another secret', async () => {
    // A given secret, not whsec_: this scheme keys the HMAC with the secret string exactly as it is.
    const secret = `given-secret-for-${language}-0123456789`;
    const receiver = await startReceiver(language, { WEBHOOK_SECRET: secret, WEBHOOK_SCHEME: 'cloudkeep' });
    const webhookId = await createWebhook(receiver, secret, false);
    const { eventId, attempt } = await deliverEvent(webhookId);
    expect(attempt.response.status).toBe(200);
    expect(JSON.parse(attempt.response.body)).toEqual({ accepted: eventId, event: 'secret.created' });
    expect((await receiver.accepted(2)).map((line) => line.event)).toEqual(['ping', 'secret.created']);

    const { headers, body } = attempt.request;
    expect(Object.keys(headers).filter((h) => h.startsWith('webhook-'))).toEqual([]);
    // The same request again (a retry whose answer was lost, or a replay): acknowledged, not acted on twice.
    expect(await receiver.post(headers, body)).toEqual({ status: 200, body: { duplicate: eventId } });
    const changed = body.replace('NEW_API_KEY', 'OTHER_KEY');
    expect(changed).not.toBe(body);
    expect(await receiver.post(headers, changed)).toEqual({ status: 400, body: { rejected: 'signature mismatch' } });
    const otherSecret = { ...headers, 'X-CloudKeep-Signature-256': signBody(changed, 'another-secret-0123456789abcdef') };
    expect(await receiver.post(otherSecret, changed)).toEqual({ status: 400, body: { rejected: 'signature mismatch' } });
    const unsigned = Object.fromEntries(Object.entries(headers).filter(([h]) => h !== 'X-CloudKeep-Signature-256'));
    expect(await receiver.post(unsigned, body)).toEqual({ status: 400, body: { rejected: 'missing X-CloudKeep-Signature-256' } });

    // This scheme signs the body only, and the body's timestamp is when the event happened: a retry (up to
    // ~15 h later) or a redelivery carries it unchanged, so the receiver must not refuse an old one.
    const hoursOld = eventBody('evt_hoursOld1', new Date(Date.now() - 3 * 3600_000));
    expect(await receiver.post({ 'Content-Type': 'application/json', 'X-CloudKeep-Signature-256': signBody(hoursOld, secret) }, hoursOld)).toEqual({
      status: 200,
      body: { accepted: 'evt_hoursOld1', event: 'secret.created' },
    });
    expect((await receiver.accepted(3)).map((line) => line.accepted)).toEqual([expect.stringMatching(/^evt_/), eventId, 'evt_hoursOld1']);
  });

  it('accepts real Standard Webhooks deliveries and refuses a changed body, another secret, a stale or a future timestamp', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver(language, { WEBHOOK_SECRET: secret, WEBHOOK_SCHEME: 'standard' });
    const webhookId = await createWebhook(receiver, secret, true);
    const { eventId, attempt } = await deliverEvent(webhookId);
    expect(attempt.response.status).toBe(200);
    expect(JSON.parse(attempt.response.body)).toEqual({ accepted: eventId, event: 'secret.created' });
    expect((await receiver.accepted(2)).map((line) => line.event)).toEqual(['ping', 'secret.created']);

    const { headers, body } = attempt.request;
    expect(headers['webhook-signature']).toMatch(/^v1,/);
    expect(await receiver.post(headers, body)).toEqual({ status: 200, body: { duplicate: eventId } });
    expect(await receiver.post(headers, body.replace('NEW_API_KEY', 'OTHER_KEY'))).toEqual({ status: 400, body: { rejected: 'signature mismatch' } });
    const withoutStandard = Object.fromEntries(Object.entries(headers).filter(([h]) => !h.startsWith('webhook-')));
    expect(await receiver.post(withoutStandard, body)).toEqual({ status: 400, body: { rejected: 'missing webhook-id, webhook-timestamp or webhook-signature' } });

    // Another event signed with our own code at three times: six minutes ago and six minutes ahead are outside
    // the five-minute tolerance; now is accepted, so the timestamp alone made the difference.
    const fresh = eventBody(`evt_${language}Fresh`, new Date());
    const signedAt = (offsetSeconds: number) => ({
      'Content-Type': 'application/json',
      ...standardWebhooksHeaders({ id: `dlv_${language}Forged`, timestampSeconds: nowSeconds() + offsetSeconds, body: fresh, secret }),
    });
    const tooOld = { status: 400, body: { rejected: 'webhook-timestamp too old or too new' } };
    expect(await receiver.post(signedAt(-6 * 60), fresh)).toEqual(tooOld);
    expect(await receiver.post(signedAt(6 * 60), fresh)).toEqual(tooOld);
    const otherSecret = { 'Content-Type': 'application/json', ...standardWebhooksHeaders({ id: `dlv_${language}Forged`, timestampSeconds: nowSeconds(), body: fresh, secret: generateWebhookSecret() }) };
    expect(await receiver.post(otherSecret, fresh)).toEqual({ status: 400, body: { rejected: 'signature mismatch' } });
    expect(await receiver.post(signedAt(0), fresh)).toEqual({ status: 200, body: { accepted: `evt_${language}Fresh`, event: 'secret.created' } });
    expect((await receiver.accepted(3)).map((line) => line.accepted)).toEqual([expect.stringMatching(/^evt_/), eventId, `evt_${language}Fresh`]);
  });
});

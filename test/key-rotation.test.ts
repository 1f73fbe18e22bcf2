/**
 * Rotating the at-rest encryption key with no downtime, on a real stack and PostgreSQL: webhooks sealed under the
 * old key (one in the format earlier releases wrote), a worker on the new key ring with the old key still listed,
 * `npm run cli -- keys re-encrypt` re-sealing every row in batches, then the old key dropped — every secret still
 * opens and deliveries still sign.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { SecretBox } from '../src/domain/secret-box';
import { reEncryptSecrets } from '../src/services/key-rotation';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';

const OLD_KEY = SecretBox.generateKey();
const NEW_KEY = SecretBox.generateKey();
const NEW_KEY_ID = new SecretBox(NEW_KEY).keyId;

let stack: Stack;
let org: Org;
let receiver: Receiver;
const webhooks: { id: string; url: string; secret: string }[] = [];

beforeAll(async () => {
  stack = await createStack({ env: { SECRET_ENCRYPTION_KEY: OLD_KEY } });
  org = await stack.createOrg();
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

/** The CLI as an operator runs it, against the stack's database, with the key ring in `keys`. */
function cli(keys: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: stack.config.databaseUrl, ...keys };
  if (!keys.SECRET_DECRYPTION_KEYS) delete env.SECRET_DECRYPTION_KEYS;
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli.ts', ...args], { cwd: path.resolve(__dirname, '..'), env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A value sealed as releases before the key ring did (`v1.<iv>.<tag>.<ciphertext>`, no key id): rows stored today. */
function sealV1(base64Key: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(base64Key, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
}

/** Ingests one event; every webhook receives it, signed with its own secret as the user saw it at creation. */
async function deliverToAll(eventId: string): Promise<void> {
  const ingest = await stack.api('POST', '/v1/events', org.serviceToken, { id: eventId, event: 'secret.created', data: secretCreatedData });
  expect(ingest.status).toBe(202);
  expect(ingest.body.deliveries).toBe(webhooks.length);
  for (const webhook of webhooks) {
    const request = await waitFor(() => receiver.requests.find((r) => r.path === new URL(webhook.url).pathname && JSON.parse(r.body).id === eventId), `${eventId} at ${webhook.url}`);
    expect(verifyWebhook(request.body, request.headers['x-cloudkeep-signature-256'] as string, webhook.secret)).toBe(true);
  }
}

const rows = () => stack.db('webhooks').orderBy('id').select('id', 'target_ciphertext', 'secret_ciphertext');

it('delivers, signed, from rows sealed under the old key, one of them in the format of earlier releases', async () => {
  for (let i = 0; i < 5; i++) {
    const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/hook-${i}`, events: ['secret.created'] });
    expect(created.status).toBe(201);
    webhooks.push({ id: created.body.id, url: `${receiver.url}/hook-${i}`, secret: created.body.secret });
  }
  const [legacy] = webhooks;
  await stack.db('webhooks').where({ id: legacy!.id }).update({ target_ciphertext: sealV1(OLD_KEY, legacy!.url), secret_ciphertext: sealV1(OLD_KEY, legacy!.secret) });
  await deliverToAll('evt_before_rotation');
});

it('re-encrypts every row under the new key in bounded batches, idempotently, printing no secret', async () => {
  // The new key is rolled out with the old one still listed: the worker restarts on that ring and keeps delivering.
  await stack.stopWorker();
  await stack.startWorker({ secretBox: new SecretBox(NEW_KEY, [OLD_KEY]) });
  await deliverToAll('evt_during_rotation');

  const ring = { SECRET_ENCRYPTION_KEY: NEW_KEY, SECRET_DECRYPTION_KEYS: OLD_KEY };
  const run = await cli(ring, 'keys', 're-encrypt', '--batch-size', '2');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({
    keyId: NEW_KEY_ID,
    batchSize: 2,
    batches: 3,
    examined: 5,
    reEncrypted: 5,
    changedConcurrently: 0,
    undecryptable: { count: 0, webhookIds: [] },
    remaining: 0,
  });
  for (const row of await rows()) {
    expect(row.target_ciphertext.startsWith(`v2.${NEW_KEY_ID}.`)).toBe(true);
    expect(row.secret_ciphertext.startsWith(`v2.${NEW_KEY_ID}.`)).toBe(true);
  }
  for (const secretValue of [OLD_KEY, NEW_KEY, ...webhooks.flatMap((w) => [w.secret, w.url])]) expect(run.stdout).not.toContain(secretValue);

  const again = await cli(ring, 'keys', 're-encrypt');
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ batchSize: 500, batches: 0, examined: 0, reEncrypted: 0, remaining: 0 });
});

it('with the old key dropped, every secret and URL still opens and deliveries still sign', async () => {
  await stack.stopWorker();
  const newOnly = new SecretBox(NEW_KEY);
  await stack.startWorker({ secretBox: newOnly });
  const stored = await rows();
  for (const webhook of webhooks) {
    const row = stored.find((r) => r.id === webhook.id)!;
    expect(newOnly.open(row.secret_ciphertext)).toBe(webhook.secret);
    expect(newOnly.open(row.target_ciphertext)).toBe(webhook.url);
    expect(() => new SecretBox(OLD_KEY).open(row.secret_ciphertext)).toThrow(/not in the key ring/);
  }
  await deliverToAll('evt_after_rotation');
});

it('leaves a webhook edited during a batch as its editor wrote it, and re-seals it on a second walk if needed', async () => {
  // The next rotation, with a process still on the previous ring editing a webhook between a batch's read and write.
  const nextKey = SecretBox.generateKey();
  const ring = new SecretBox(nextKey, [NEW_KEY]);
  const previousRing = new SecretBox(NEW_KEY, [nextKey]);
  const edited = webhooks[1]!;
  let edits = 0;
  const report = await reEncryptSecrets(stack.db, ring, {
    batchSize: 2,
    afterBatchRead: async (ids) => {
      if (!ids.includes(edited.id) || edits++ > 0) return;
      await stack.db('webhooks').where({ id: edited.id }).update({ secret_ciphertext: previousRing.seal('whsec_rotated-while-re-encrypting') });
    },
  });
  expect(report).toMatchObject({ examined: 5, reEncrypted: 5, changedConcurrently: 1, remaining: 0, undecryptable: { count: 0, webhookIds: [] } });
  const row = await stack.db('webhooks').where({ id: edited.id }).first();
  expect(ring.isCurrent(row.secret_ciphertext)).toBe(true);
  expect(new SecretBox(nextKey).open(row.secret_ciphertext)).toBe('whsec_rotated-while-re-encrypting');
  expect(new SecretBox(nextKey).open(row.target_ciphertext)).toBe(edited.url);
  // Back to what the other tests expect of this webhook.
  await stack.db('webhooks').where({ id: edited.id }).update({ secret_ciphertext: ring.seal(edited.secret) });

  // A row no key of the ring opens is reported by id, left as it is, and the command fails: do not drop a key yet.
  const stranger = new SecretBox(SecretBox.generateKey());
  const orphan = webhooks[2]!;
  const before = await stack.db('webhooks').where({ id: orphan.id }).update({ secret_ciphertext: stranger.seal(orphan.secret) }).returning('secret_ciphertext');
  const run = await cli({ SECRET_ENCRYPTION_KEY: nextKey }, 'keys', 're-encrypt');
  expect(run.code).toBe(1);
  expect(JSON.parse(run.stdout)).toMatchObject({ examined: 1, reEncrypted: 0, undecryptable: { count: 1, webhookIds: [orphan.id] }, remaining: 1 });
  expect((await stack.db('webhooks').where({ id: orphan.id }).first()).secret_ciphertext).toBe(before[0].secret_ciphertext);
});

it('refuses a malformed decryption key naming the variable, never echoing it', async () => {
  const run = await cli({ SECRET_ENCRYPTION_KEY: NEW_KEY, SECRET_DECRYPTION_KEYS: `${OLD_KEY}, not-a-key-but-a-secret` }, 'keys', 're-encrypt');
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/SECRET_DECRYPTION_KEYS: key 2 of 2 must be 32 bytes, base64-encoded/);
  expect(run.stderr + run.stdout).not.toContain('not-a-key-but-a-secret');
  expect(run.stderr + run.stdout).not.toContain(OLD_KEY);
});

/**
 * Every pair of a webhook's mutations — PATCH (Standard Webhooks toggled, URL changed), rotate-secret (generated,
 * and a given secret Standard Webhooks cannot use), enable, test, delete and recover — sent at the same moment,
 * a few rounds each, on real parts. Whatever order the database serialized them in, the webhook must end in a
 * state its deliveries can use: if it still exists, a new event is delivered to its current URL and verifies with
 * its current secret in its current scheme; if it was deleted, its deliveries end (cancelled, unless already sent);
 * either way nothing stays pending, no recovery stays running, and every answer is a 2xx or a problem+json refusal.
 */
import { Webhook } from 'standardwebhooks';
import { webhooksStore } from '../src/db/stores/webhooks';
import { isStandardWebhooksSecret } from '../src/domain/standard-webhooks';
import { Receiver } from './support/receiver';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';

const ROUNDS = Number(process.env.RACE_ROUNDS ?? 3);
const KINDS = ['patch-sw', 'patch-url', 'rotate', 'rotate-plain', 'enable', 'test', 'delete', 'recover'] as const;
type Kind = (typeof KINDS)[number];

/** What each request may answer, whichever goes first (404 only once a delete has won). */
const ALLOWED: Record<Kind, number[]> = {
  'patch-sw': [200, 400, 404],
  'patch-url': [200, 404],
  rotate: [200, 404],
  'rotate-plain': [200, 400, 404],
  enable: [200, 409, 404],
  test: [202, 409, 404],
  delete: [204, 404],
  recover: [202, 409, 404],
};

/** Every unordered pair, a kind with itself included. */
const PAIRS: [Kind, Kind][] = KINDS.flatMap((a, i) => KINDS.slice(i).map((b): [Kind, Kind] => [a, b]));

let stack: Stack;
let org: Org;
let receiver: Receiver;

beforeAll(async () => {
  // Each round makes and checks a webhook through the admin API: more requests a minute than the default limit.
  stack = await createStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  org = await stack.createOrg();
  receiver = await new Receiver().start();
});

afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

interface Round {
  tag: string;
  vaultId: string;
  id: string;
  url: string;
  secret: string;
  standardWebhooks: boolean;
  createdAt: number;
  /** The delivery kept `skipped` while the webhook was disabled: what a recovery re-delivers. */
  skippedDeliveryId: string;
}

const FINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];

/**
 * A fresh webhook for one round (its own vault filter, so only this round's events reach it), active after its
 * ping, with one delivery skipped while it was disabled; left disabled when the pair re-enables it.
 */
async function setUp(tag: string, o: { standardWebhooks: boolean; disabled: boolean }): Promise<Round> {
  const vaultId = `vlt_${tag}`;
  const url = `${receiver.url}/${tag}-a`;
  const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url, events: ['secret.created'], vaultIds: [vaultId], standardWebhooks: o.standardWebhooks });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  await waitFor(async () => (await stack.db('webhooks').where({ id }).first()).status === 'active', `${tag}: active after its ping`);
  expect(await webhooksStore.transition(stack.db, id, ['active'], 'disabled', 'Disabled by the race test')).toBeTruthy();
  const skipped = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: { ...secretCreatedData, vaultId } });
  expect(skipped.status).toBe(202);
  const [delivery] = await stack.db('deliveries').where({ organization_id: org.id, event_id: skipped.body.id }).select('id', 'status');
  expect(delivery.status).toBe('skipped');
  if (!o.disabled) expect(await webhooksStore.transition(stack.db, id, ['disabled'], 'active', null)).toBeTruthy();
  return { tag, vaultId, id, url, secret: created.body.secret, standardWebhooks: o.standardWebhooks, createdAt: Date.parse(created.body.createdAt), skippedDeliveryId: delivery.id };
}

/** The request of one kind; `n` (0 or 1) keeps two of the same kind apart (another URL, another secret). */
function send(kind: Kind, r: Round, n: number) {
  const path = `/v1/webhooks/${r.id}`;
  switch (kind) {
    case 'patch-sw':
      return stack.api('PATCH', path, org.apiKey, { standardWebhooks: !r.standardWebhooks });
    case 'patch-url':
      return stack.api('PATCH', path, org.apiKey, { url: `${receiver.url}/${r.tag}-b${n}` });
    case 'rotate':
      return stack.api('POST', `${path}/rotate-secret`, org.apiKey);
    case 'rotate-plain':
      return stack.api('POST', `${path}/rotate-secret`, org.apiKey, { secret: `plain-secret-of-32-characters-${n}x` });
    case 'enable':
      return stack.api('POST', `${path}/enable`, org.apiKey);
    case 'test':
      return stack.api('POST', `${path}/test`, org.apiKey);
    case 'delete':
      return stack.api('DELETE', path, org.apiKey);
    case 'recover':
      return stack.api('POST', `${path}/recover`, org.apiKey, { since: new Date(r.createdAt - 60_000).toISOString() });
  }
}

async function deliveriesOf(webhookId: string) {
  return stack.db('deliveries').where({ webhook_id: webhookId }).select('id', 'status', 'last_error', 'event_type');
}

/** Every delivery and recovery of the webhook has ended: nothing pending, retrying or running. */
async function everythingEnded(r: Round) {
  await waitFor(
    async () => {
      const open = (await deliveriesOf(r.id)).filter((d) => !FINAL.includes(d.status));
      const running = await stack.db('webhook_recoveries').where({ webhook_id: r.id, status: 'running' });
      return open.length === 0 && running.length === 0;
    },
    `${r.tag}: its deliveries and recoveries to end`,
    30_000,
  ).catch(async (err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify({ deliveries: await deliveriesOf(r.id), recoveries: await stack.db('webhook_recoveries').where({ webhook_id: r.id }) })}`);
  });
}

async function playRound([a, b]: [Kind, Kind], round: number): Promise<void> {
  const tag = `${a}-${b}-${round}`.replace(/[^a-z0-9-]/g, '');
  const r = await setUp(tag, { standardWebhooks: round % 2 === 1, disabled: a === 'enable' || b === 'enable' });

  const [resA, resB] = await Promise.all([send(a, r, 0), send(b, r, 1)]);
  const answers = [
    { kind: a, n: 0, ...resA },
    { kind: b, n: 1, ...resB },
  ];
  const statuses = answers.map((x) => ({ kind: x.kind, status: x.status }));
  for (const x of answers) {
    expect({ tag, kind: x.kind, allowed: ALLOWED[x.kind].includes(x.status) }).toEqual({ tag, kind: x.kind, allowed: true });
    if (x.status >= 400) expect({ tag, kind: x.kind, contentType: x.contentType }).toEqual({ tag, kind: x.kind, contentType: expect.stringContaining('application/problem+json') });
  }
  const deleteWon = answers.some((x) => x.kind === 'delete' && x.status === 204);
  // Two deletes: one wins. Two re-enables: one wins (the second finds the webhook enabled already).
  if (a === b && (a === 'delete' || a === 'enable')) expect({ tag, statuses: statuses.map((s) => s.status).sort() }).toEqual({ tag, statuses: a === 'delete' ? [204, 404] : [200, 409] });
  if (!deleteWon) expect({ tag, notFound: answers.filter((x) => x.status === 404).length }).toEqual({ tag, notFound: 0 });

  // The stored state is one of the answers' (the API showed what it stored) and is self-consistent.
  const row = await stack.db('webhooks').where({ id: r.id }).first();
  const secret = stack.secretBox.open(row.secret_ciphertext);
  const url = stack.secretBox.open(row.target_ciphertext);
  const secretsShown = [r.secret, ...answers.filter((x) => x.kind.startsWith('rotate') && x.status === 200).map((x) => x.body.secret)];
  const urlsSet = [r.url, ...answers.filter((x) => x.kind === 'patch-url' && x.status === 200).map((x) => `${receiver.url}/${r.tag}-b${x.n}`)];
  expect({ tag, statuses, secretShown: secretsShown.includes(secret), urlSet: urlsSet.includes(url) }).toEqual({ tag, statuses, secretShown: true, urlSet: true });
  expect({ tag, statuses, signable: !row.standard_webhooks || isStandardWebhooksSecret(secret) }).toEqual({ tag, statuses, signable: true });

  await everythingEnded(r);
  const deliveries = await deliveriesOf(r.id);
  for (const d of deliveries.filter((x) => x.status === 'cancelled' || x.status === 'failed')) {
    expect({ tag, delivery: d.id, reason: d.last_error }).toEqual({ tag, delivery: d.id, reason: expect.any(String) });
  }

  if (deleteWon) {
    expect(row.deleted_at).not.toBeNull();
    // Nothing was left waiting: every delivery either went out before the delete or was cancelled by it.
    expect({ tag, statuses: [...new Set(deliveries.map((d) => d.status))].filter((s) => !['succeeded', 'cancelled', 'skipped'].includes(s)) }).toEqual({ tag, statuses: [] });
    const after = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: { ...secretCreatedData, vaultId: r.vaultId } });
    expect({ tag, deliveries: after.body.deliveries }).toEqual({ tag, deliveries: 0 });
    return;
  }

  // Not deleted: its pings answered, it is active, and a new event reaches its current URL signed with its current
  // secret in its current scheme.
  const active = await waitFor(async () => {
    const now = await stack.db('webhooks').where({ id: r.id }).first();
    return now.status === 'active' ? now : null;
  }, `${tag}: active`);
  expect(active.deleted_at).toBeNull();
  if (answers.some((x) => x.kind === 'recover' && x.status === 202)) {
    expect({ tag, recovered: deliveries.find((d) => d.id === r.skippedDeliveryId)?.status }).toEqual({ tag, recovered: 'succeeded' });
  }
  const event = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: { ...secretCreatedData, vaultId: r.vaultId } });
  expect({ tag, deliveries: event.body.deliveries }).toEqual({ tag, deliveries: 1 });
  const [delivery] = await stack.db('deliveries').where({ organization_id: org.id, event_id: event.body.id }).select('id');
  await waitFor(async () => (await stack.db('deliveries').where({ id: delivery.id }).first()).status === 'succeeded', `${tag}: the new event delivered`);
  const requests = receiver.requests.filter((q) => q.headers['x-cloudkeep-delivery'] === delivery.id);
  expect({ tag, requests: requests.length, path: requests[0]?.path }).toEqual({ tag, requests: 1, path: new URL(url).pathname });
  const [request] = requests;
  expect({ tag, statuses, verifies: verifyWebhook(request.body, request.headers['x-cloudkeep-signature-256'] as string, secret) }).toEqual({ tag, statuses, verifies: true });
  if (active.standard_webhooks) {
    expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toEqual(JSON.parse(request.body));
  } else {
    expect(request.headers['webhook-signature']).toBeUndefined();
  }
}

describe(`every pair of a webhook's mutations at the same moment (${ROUNDS} rounds each, Standard Webhooks off then on)`, () => {
  it.each(PAIRS)('%s and %s', async (a, b) => {
    // The rounds of a pair run side by side, each on its own webhook.
    await Promise.all(Array.from({ length: ROUNDS }, (_, round) => playRound([a, b], round)));
  });
});

/**
 * Ingest driven by generated input (fast-check), against the real stack: every event the API accepts (202) ends
 * delivered within seconds to a receiver that answers 200 — never `pending` for ever — with the payload it was sent
 * (same instant, same data, signatures that verify; Slack and Discord bodies within their limits); every refusal is
 * problem+json naming the field at fault, and stores nothing. The generator and what each input must get are in
 * test/support/generated-events.ts.
 *
 * FC_SEED replays a run (fast-check prints the seed and the shrunk counterexample of a failure); FC_RUNS runs more.
 */
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { expectDiscordWithinLimits, expectSlackWithinLimits } from './support/message-limits';
import { bodyOf, ExpectedAnswer, expectedAnswers, FILTERED_VAULTS, IngestCase, ingestCase } from './support/generated-events';
import { Receiver, ReceivedRequest } from './support/receiver';
import { createStack, Org, Stack } from './support/stack';
import { verifyWebhook } from './support/verify-webhook';
import { waitFor } from './support/wait';

const SEED = Number(process.env.FC_SEED ?? 18_0003);
const RUNS = Number(process.env.FC_RUNS ?? 100);
/** With a receiver answering 200 at once, a delivery ends in well under a second; this leaves room for a busy machine. */
const DELIVERY_DEADLINE_MS = 20_000;

let stack: Stack;
let org: Org;
let receiver: Receiver;
/** Every webhook of the suite, by role: four subscribed to every event, one filtered to FILTERED_VAULTS. */
const webhooks: Record<'generic' | 'standard' | 'slack' | 'discord' | 'filtered', { id: string; secret: string; path: string }> = {} as never;

beforeAll(async () => {
  // The suite reads the Delivery Log after every case: more admin requests than the default limit allows a minute.
  stack = await createStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  org = await stack.createOrg();
  receiver = await new Receiver().start();
  const all = ['secret.created', 'secret.updated', 'secret.deleted', 'vault.created', 'vault.updated', 'vault.deleted', 'member.added', 'member.removed'];
  const specs = {
    generic: {},
    standard: { standardWebhooks: true },
    slack: { destination: 'slack' },
    discord: { destination: 'discord' },
    filtered: { vaultIds: [...FILTERED_VAULTS] },
  };
  for (const [role, extra] of Object.entries(specs)) {
    const path = `/${role}`;
    const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${path}`, events: all, ...extra });
    expect(created.status).toBe(201);
    webhooks[role as keyof typeof webhooks] = { id: created.body.id, secret: created.body.secret, path };
  }
  for (const { id } of Object.values(webhooks)) {
    await waitFor(async () => (await stack.db('webhooks').where({ id }).first()).status === 'active', `webhook ${id} active after its ping`);
  }
});

afterAll(async () => {
  await receiver?.stop();
  await stack?.close();
});

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const requestsTo = (path: string, deliveryId: string) => receiver.requests.filter((r) => r.path === path && r.headers['x-cloudkeep-delivery'] === deliveryId);

/** The answer matches one of the expected ones; returns it. */
function matching(res: { status: number; contentType: string; body: any }, expected: ExpectedAnswer[]): ExpectedAnswer {
  const fieldsOf = (body: any): string[] => (Array.isArray(body?.errors) ? body.errors.map((e: { field: unknown }) => e.field) : []);
  const fits = (e: ExpectedAnswer) => {
    if (e.status !== res.status) return false;
    if (e.status === 202) return true;
    const got = [...new Set(fieldsOf(res.body))];
    const covers = (want: string, field: string) => (want.endsWith('…') ? field.startsWith(want.slice(0, -1)) : field === want);
    return e.fields.every((want) => got.some((f) => covers(want, f))) && got.every((f) => e.fields.some((want) => covers(want, f)));
  };
  const found = expected.find(fits);
  if (!found) {
    throw new Error(`answered ${res.status} ${JSON.stringify(res.body)?.slice(0, 600)}; expected one of ${JSON.stringify(expected)}`);
  }
  return found;
}

let runs = 0;
/** What the runs came to: the property means little unless both sides were exercised. */
const outcomes = { accepted: 0, refused: 0 };

async function checkCase(c: IngestCase): Promise<void> {
  const unique = `r${++runs}_`;
  const body = bodyOf(c, unique);
  const expected = expectedAnswers(c, body, 4);
  const sentAt = Date.now();
  const res = await stack.api('POST', '/v1/events', org.serviceToken, body);
  const answeredAt = Date.now();
  const answer = matching(res, expected);

  outcomes[answer.status === 202 ? 'accepted' : 'refused']++;
  if (answer.status !== 202) {
    // Every refusal is problem+json naming a field, and nothing was stored.
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.errors.length).toBeGreaterThan(0);
    for (const e of res.body.errors) expect(e).toEqual({ field: expect.stringMatching(/^(body|data)(\.|$)/), message: expect.any(String) });
    if (typeof body.id === 'string') expect(await stack.db('events').where({ organization_id: org.id, id: body.id })).toHaveLength(0);
    return;
  }

  expect(res.body).toEqual({ id: expect.any(String), deliveries: answer.deliveries, duplicate: false });
  const eventId: string = res.body.id;
  if (typeof body.id === 'string') expect(eventId).toBe(body.id);

  // Every accepted delivery ends: none left pending past the deadline, whatever the input.
  const rows = await waitFor(
    async () => {
      const rows = await stack.db('deliveries').where({ organization_id: org.id, event_id: eventId }).select('id', 'webhook_id', 'status', 'last_error');
      return rows.length === answer.deliveries && rows.every((r) => FINAL.has(r.status)) ? rows : null;
    },
    `the deliveries of ${eventId} to end`,
    DELIVERY_DEADLINE_MS,
  ).catch(async (err) => {
    const rows = await stack.db('deliveries').where({ organization_id: org.id, event_id: eventId }).select('id', 'status', 'attempt_count', 'last_error');
    throw new Error(`${(err as Error).message}; deliveries: ${JSON.stringify(rows)}`);
  });

  const expectedMs = answer.utcMs;
  const roles = Object.fromEntries(Object.entries(webhooks).map(([role, w]) => [w.id, role as keyof typeof webhooks]));
  for (const row of rows) {
    const role = roles[row.webhook_id];
    // The Delivery Log: a 200 receiver means delivered on the first attempt (a failure would show its reason here).
    const detail = await stack.api('GET', `/v1/deliveries/${row.id}`, org.apiKey);
    expect({ role, status: detail.body.status, lastError: detail.body.lastError, attemptCount: detail.body.attemptCount }).toEqual({ role, status: 'succeeded', lastError: null, attemptCount: 1 });
    const sentBody: string = detail.body.attempts[0].request.body;

    if (role === 'slack' || role === 'discord') {
      expect(receiver.requests.filter((r) => r.path === webhooks[role].path && r.body === sentBody)).toHaveLength(1);
      const message = JSON.parse(sentBody);
      if (role === 'slack') expectSlackWithinLimits(message);
      else {
        expectDiscordWithinLimits(message.embeds[0]);
        // The embed's time is the event's (Discord refuses the whole message for a time it cannot read).
        expect(new Date(message.embeds[0].timestamp).getTime()).toBe(new Date(detail.body.payload.timestamp).getTime());
      }
      continue;
    }

    // Generic: exactly one request, the payload as sent — same id, type, instant and data — and signatures that verify.
    const requests: ReceivedRequest[] = requestsTo(webhooks[role].path, row.id);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request.body).toBe(sentBody);
    const payload = JSON.parse(request.body);
    expect(payload).toEqual({ id: eventId, event: c.event, timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/), data: body.data });
    const at = new Date(payload.timestamp).getTime();
    if (expectedMs !== undefined) expect(at).toBe(expectedMs);
    else expect(at >= sentAt - 1000 && at <= answeredAt + 1000).toBe(true);
    expect(verifyWebhook(request.body, request.headers['x-cloudkeep-signature-256'] as string, webhooks[role].secret)).toBe(true);
    if (role === 'standard') expect(new Webhook(webhooks.standard.secret).verify(request.body, request.headers as Record<string, string>)).toEqual(payload);
  }

  if (c.resend && typeof body.id === 'string') {
    // The same event again: a duplicate, answered with the first call's count, and nothing sent twice.
    const before = receiver.requests.length;
    const again = await stack.api('POST', '/v1/events', org.serviceToken, body);
    expect(again.body).toEqual({ id: eventId, deliveries: answer.deliveries, duplicate: true });
    expect(await stack.db('deliveries').where({ organization_id: org.id, event_id: eventId })).toHaveLength(answer.deliveries);
    expect(receiver.requests.length).toBe(before);
  }
}

it(`every generated event is delivered or refused naming its field (fast-check, seed ${SEED}, ${RUNS} runs)`, async () => {
  await fc.assert(fc.asyncProperty(ingestCase, checkCase), { seed: SEED, numRuns: RUNS });
  expect(outcomes.accepted).toBeGreaterThanOrEqual(RUNS / 10);
  expect(outcomes.refused).toBeGreaterThanOrEqual(RUNS / 10);
}, 900_000);

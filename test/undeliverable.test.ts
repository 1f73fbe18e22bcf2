/**
 * A delivery no attempt can get past (bad stored data, an unusable secret, a programming error) ends `failed` with
 * its reason in the Delivery Log, instead of its attempt (a local activity without a maximum of attempts) being
 * retried once a minute for ever. Infrastructure faults are still retried.
 */
import { isUndeliverable, UndeliverableError } from '../src/activities/delivery';
import knexFactory from 'knex';
import { freePort } from '../src/dev/ports';
import { deliveryWorkflowId, searchAttributes } from '../src/workflows/messages';
import { Receiver } from './support/receiver';
import { withStackPerFile, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';

let stack: Stack;
let org: Org;
let receiver: Receiver;

withStackPerFile((parts) => ({ stack, org, receiver } = parts));

const PLAIN_SECRET = 'plain-secret-of-32-characters-xy';

async function activeWebhook(route: string): Promise<string> {
  const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${route}`, events: ['secret.created'] });
  expect(res.status).toBe(201);
  await waitFor(async () => (await stack.db('webhooks').where({ id: res.body.id }).first()).status === 'active', `${route} to be active`);
  return res.body.id;
}

const deadline = (message: string, ms = 30_000) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());

const requestsTo = (route: string) => receiver.requests.filter((r) => r.path === route && r.headers['x-cloudkeep-event'] === 'secret.created');
/** Every event goes to every webhook of the organization: the requests of one event to one route. */
const requestsOf = (route: string, eventId: string) => requestsTo(route).filter((r) => JSON.parse(r.body).id === eventId);

/** Waits (bounded) for the delivery's workflow to close and returns the Delivery Log's view of it. */
async function finished(deliveryId: string) {
  // The worker's outbox starts it soon after the 202.
  const handle = stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId));
  await waitFor(() => handle.describe(), `the workflow of ${deliveryId}`);
  const result = await handle.result();
  const detail = await stack.api('GET', `/v1/deliveries/${deliveryId}`, org.apiKey);
  return { result, detail: detail.body };
}

async function ingestTo(webhookId: string, eventId: string): Promise<string> {
  expect((await stack.api('POST', '/v1/events', org.serviceToken, { id: eventId, event: 'secret.created', data: secretCreatedData })).status).toBe(202);
  const [row] = await stack.db('deliveries').where({ event_id: eventId, webhook_id: webhookId });
  return row.id;
}

describe('a delivery that can never be attempted', () => {
  it('a Standard Webhooks webhook whose stored secret is not a Standard Webhooks secret: failed with the reason, nothing sent', async () => {
    const webhookId = await activeWebhook('/plain');
    // The state the PATCH/rotate race could leave behind, written directly.
    await stack.db('webhooks').where({ id: webhookId }).update({ standard_webhooks: true, secret_ciphertext: stack.secretBox.seal(PLAIN_SECRET) });
    const deliveryId = await ingestTo(webhookId, 'evt_plain');

    const { result, detail } = await Promise.race([
      finished(deliveryId),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the delivery did not end within 30 s')), 30_000).unref()),
    ]);
    expect(result).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^Undeliverable: .*not a Standard Webhooks secret/) });
    expect(detail).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^Undeliverable: .*not a Standard Webhooks secret/), completedAt: expect.any(String), attemptCount: 0, attempts: [] });
    expect(requestsTo('/plain')).toHaveLength(0);
    const search = await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe();
    // The Temporal UI: the run completed, `DeliveryStatus` says failed and its result carries the reason (above).
    expect(search.status.name).toBe('COMPLETED');
    expect(search.typedSearchAttributes.get(searchAttributes.deliveryStatus)).toBe('failed');
  });

  it('a stored secret that cannot be decrypted, and an event time out of every range: failed with the reason', async () => {
    const garbled = await activeWebhook('/garbled');
    await stack.db('webhooks').where({ id: garbled }).update({ secret_ciphertext: 'v1:AAAA:BBBB:CCCC' });
    const garbledDelivery = await ingestTo(garbled, 'evt_garbled');

    const timeless = await activeWebhook('/timeless');
    await stack.stopWorker();
    let timelessDelivery: string;
    try {
      timelessDelivery = await ingestTo(timeless, 'evt_infinity');
      await stack.db('events').where({ id: 'evt_infinity' }).update({ timestamp: stack.db.raw(`'infinity'::timestamptz`) });
    } finally {
      await stack.startWorker();
    }

    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the deliveries did not end within 30 s')), 30_000).unref());
    const [a, b] = await Promise.race([Promise.all([finished(garbledDelivery), finished(timelessDelivery!)]), deadline]);
    expect(a.detail).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^Undeliverable: the request cannot be built/) });
    expect(b.detail).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^Undeliverable: .*Invalid time value/) });
    expect(requestsTo('/garbled')).toHaveLength(0);
    expect(requestsTo('/timeless')).toHaveLength(0);
    // Only these deliveries failed: the webhooks' other deliveries go on as before.
    await stack.db('webhooks').where({ id: garbled }).update({ secret_ciphertext: stack.secretBox.seal(PLAIN_SECRET) });
    const next = await ingestTo(garbled, 'evt_garbled_fixed');
    expect((await finished(next)).detail).toMatchObject({ status: 'succeeded', attemptCount: 1 });
  });

  it('a ping that can never be sent fails and leaves its new webhook inactive, with the reason', async () => {
    await stack.stopWorker();
    let webhookId: string;
    try {
      const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/ping-plain`, events: ['secret.created'], standardWebhooks: true });
      expect(res.status).toBe(201);
      webhookId = res.body.id;
      await stack.db('webhooks').where({ id: webhookId }).update({ secret_ciphertext: stack.secretBox.seal(PLAIN_SECRET) });
    } finally {
      await stack.startWorker();
    }
    const webhook = await waitFor(async () => {
      const row = await stack.db('webhooks').where({ id: webhookId }).first();
      return row.status === 'inactive' ? row : null;
    }, 'the webhook to turn inactive');
    expect(webhook.status_reason).toMatch(/^Ping failed: Undeliverable: .*not a Standard Webhooks secret/);
    const [ping] = await stack.db('deliveries').where({ webhook_id: webhookId, event_type: 'ping' });
    expect(ping).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^Undeliverable: /) });
  });
});

describe('stored data the code cannot use, and answers PostgreSQL cannot store', () => {
  it('a webhook whose stored destination the code does not know: failed with the reason, nothing sent', async () => {
    const webhookId = await activeWebhook('/unknown-destination');
    await stack.db('webhooks').where({ id: webhookId }).update({ destination: 'carrier-pigeon' });
    const deliveryId = await ingestTo(webhookId, 'evt_unknown_destination');
    const { result, detail } = await Promise.race([finished(deliveryId), deadline('the delivery did not end within 30 s')]);
    expect(result).toMatchObject({ status: 'failed', lastError: 'Undeliverable: the request cannot be built from the stored delivery: unknown destination "carrier-pigeon"' });
    expect(detail).toMatchObject({ status: 'failed', lastError: result.lastError, attempts: [] });
    expect(requestsTo('/unknown-destination')).toHaveLength(0);
  });

  it('an answer with NUL in its body and a Retry-After beyond any wait are recorded once, not re-sent once a minute for ever', async () => {
    const nul = await activeWebhook('/nul-answer');
    const far = await activeWebhook('/far-retry-after');
    receiver.respond = (req) => {
      if (req.path === '/nul-answer' && req.headers['x-cloudkeep-event'] === 'secret.created') return { status: 200, body: 'ok\u0000thanks' };
      if (req.path === '/far-retry-after' && req.headers['x-cloudkeep-event'] === 'secret.created') return { status: 429, headers: { 'Retry-After': '99999999999' } };
      return { status: 200, body: 'ok' };
    };
    try {
      const nulDelivery = await ingestTo(nul, 'evt_nul_answer');
      const farDelivery = await ingestTo(far, 'evt_far_retry_after');
      const nulDone = await Promise.race([finished(nulDelivery), deadline('the NUL answer was not recorded within 30 s')]);
      expect(nulDone.detail).toMatchObject({ status: 'succeeded', attemptCount: 1 });
      expect(nulDone.detail.attempts[0].response).toEqual({ status: 200, body: 'ok\uFFFDthanks' });
      // The 429 waits its schedule (retrying); its one attempt is recorded with the longest wait the log holds.
      const retrying = await waitFor(async () => {
        const res = await stack.api('GET', `/v1/deliveries/${farDelivery}`, org.apiKey);
        return res.body.status === 'retrying' ? res.body : null;
      }, 'the 429 to be recorded');
      expect(retrying).toMatchObject({ attemptCount: 1, lastResponseStatus: 429, stalled: null });
      expect(retrying.attempts).toMatchObject([{ response: { status: 429 }, retryAfterMs: 2_147_483_647 }]);
      expect(requestsOf('/nul-answer', 'evt_nul_answer')).toHaveLength(1);
      expect(requestsOf('/far-retry-after', 'evt_far_retry_after')).toHaveLength(1);
    } finally {
      receiver.respond = () => ({ status: 200, body: 'ok' });
    }
  });
});

describe('what counts as final', () => {
  it('our UndeliverableError, programming errors and data PostgreSQL cannot take are; its other errors and lost connections are not (they are retried)', async () => {
    expect(isUndeliverable(new UndeliverableError('event evt_1 not found'))).toBe(true);
    expect(isUndeliverable(new RangeError('Invalid time value'))).toBe(true);
    expect(isUndeliverable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(true);
    expect(isUndeliverable(new SyntaxError('Unexpected token'))).toBe(true);

    // A value PostgreSQL cannot take (its data exceptions, SQLSTATE class 22) fails the same way every time.
    const dataError = await stack.db.raw('SELECT 1 / 0').catch((err: Error) => err);
    expect(dataError).toMatchObject({ code: '22012' });
    expect(isUndeliverable(dataError)).toBe(true);
    // Real infrastructure errors, from a real PostgreSQL and a port nobody listens on.
    // Any other error of PostgreSQL's (here a column this code expects and the schema lacks, as in a deploy's skew).
    const sqlError = await stack.db.raw('SELECT no_such_column FROM deliveries').catch((err: Error) => err);
    expect(sqlError).toMatchObject({ code: '42703' });
    expect(isUndeliverable(sqlError)).toBe(false);
    const port = await freePort();
    const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
    const nowhere = knexFactory({ client: 'pg', connection: `postgres://nobody@127.0.0.1:${port}/none`, pool: { min: 0, max: 1 }, log: quiet });
    try {
      const lost = await nowhere.raw('SELECT 1').catch((err: Error) => err);
      expect(lost).toMatchObject({ code: 'ECONNREFUSED' });
      expect(isUndeliverable(lost)).toBe(false);
    } finally {
      await nowhere.destroy();
    }
  });
});

/**
 * Every accepted delivery ends, or shows why it waits (issue 18, docs/reliability.md). A delivery held up by our own
 * infrastructure keeps being retried, and within a minute says why: `stalled: {reason, since}` in the Delivery Log
 * when the database takes the write, and the `ckw_deliveries_stalled{reason}` gauge in any case (it is counted in
 * memory, so it holds when the database is the part that is down). Once the part is back the delivery goes out and
 * both clear. Real parts: PostgreSQL and Temporal made unavailable to the worker alone through TCP proxies.
 */
import { Client, Connection } from '@temporalio/client';
import knexFactory, { Knex } from 'knex';
import { Receiver } from './support/receiver';
import { withStackPerFile, Org, secretCreatedData, Stack } from './support/stack';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';
import { deliveryWorkflowId } from '../src/workflows/messages';

let stack: Stack;
let org: Org;
let receiver: Receiver;

withStackPerFile((parts) => ({ stack, org, receiver } = parts));

/** `ckw_deliveries_stalled` by reason, as Prometheus scrapes it from /metrics. */
async function stalledGauge(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^ckw_deliveries_stalled\{reason="([a-z_]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** One webhook per test: an event goes to every webhook of the organization. */
async function onlyWebhook(route: string): Promise<string> {
  await stack.db('webhooks').where({ organization_id: org.id }).whereNull('deleted_at').update({ deleted_at: stack.db.fn.now() });
  const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}${route}`, events: ['secret.created'] });
  expect(res.status).toBe(201);
  await waitFor(async () => (await stack.db('webhooks').where({ id: res.body.id }).first()).status === 'active', `${route} to be active`);
  return res.body.id;
}

async function ingest(eventId: string): Promise<void> {
  expect((await stack.api('POST', '/v1/events', org.serviceToken, { id: eventId, event: 'secret.created', data: secretCreatedData })).status).toBe(202);
}

const deliveryOf = async (eventId: string) => (await stack.api('GET', `/v1/deliveries/${(await stack.db('deliveries').where({ event_id: eventId }).first()).id}`, org.apiKey)).body;
/** The event's delivery as the Delivery Log shows it, once it says the delivery is stalled. */
const onceStalled = (eventId: string, what: string) =>
  waitFor(async () => {
    const d = await deliveryOf(eventId);
    return d.stalled ? d : null;
  }, what, 60_000, 250);
const requestsOf = (route: string) => receiver.requests.filter((r) => r.path === route && r.headers['x-cloudkeep-event'] === 'secret.created');

/** Runs `body` with the stack's worker replaced by one given `parts`; the stack's own worker is back afterwards. */
async function withWorker(parts: Parameters<Stack['startWorker']>[0], body: () => Promise<void>): Promise<void> {
  await stack.stopWorker();
  await stack.startWorker(parts);
  try {
    await body();
  } finally {
    await stack.stopWorker();
    await stack.startWorker();
  }
}

/** A Temporal client whose connection goes through `proxy` (made to refuse, Temporal is unreachable for it). */
async function clientThrough(proxy: TcpProxy): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: proxy.address });
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
}

describe('a delivery held up by our infrastructure', () => {
  it('PostgreSQL down for the worker: the gauge counts it as database_unavailable within a minute; back, it goes out and the gauge clears', async () => {
    await onlyWebhook('/db-down');
    const proxy = await TcpProxy.to(new URL(stack.config.databaseUrl!).host).start();
    // The pool's complaints while the database is down are the point of the test, not news.
    const quiet = () => undefined;
    const workerDb: Knex = knexFactory({ client: 'pg', connection: proxy.postgresUrl(stack.config.databaseUrl!), pool: { min: 0, max: 10 }, log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
    try {
      await withWorker({ db: workerDb }, async () => {
        receiver.respond = (req) => (req.path === '/db-down' && req.headers['x-cloudkeep-event'] === 'secret.created' && requestsOf('/db-down').length === 1 ? 'hang' : { status: 200 });
        await ingest('evt_db_down');
        await waitFor(() => requestsOf('/db-down').length === 1, 'the request in flight');
        // The database goes away while the request is out: the attempt cannot record its answer, nor try again.
        proxy.set('refusing');
        receiver.release();
        const stalled = await waitFor(async () => ((await stalledGauge()).database_unavailable === 1 ? stalledGauge() : null), 'the gauge to count the stalled delivery', 60_000, 250);
        expect(stalled).toEqual({ database_unavailable: 1, database_error: 0, temporal_unavailable: 0, unknown: 0 });
        // Nothing could be written: the Delivery Log (read through the API's own connection) still says pending.
        expect(await deliveryOf('evt_db_down')).toMatchObject({ status: 'pending', stalled: null });

        proxy.set('open');
        const done = await waitFor(async () => ((await deliveryOf('evt_db_down')).status === 'succeeded' ? deliveryOf('evt_db_down') : null), 'the delivery once the database is back', 90_000, 250);
        // The try whose answer was lost is logged as interrupted and sent again.
        expect(done).toMatchObject({ status: 'succeeded', attemptCount: 2, stalled: null });
        expect(done.attempts).toMatchObject([{ succeeded: false, error: expect.stringMatching(/^Interrupted: /) }, { succeeded: true }]);
        expect((await stalledGauge()).database_unavailable).toBe(0);
      });
    } finally {
      receiver.respond = () => ({ status: 200, body: 'ok' });
      await workerDb.destroy();
      await proxy.stop();
    }
  });

  it('Temporal unreachable for the outbox: the waiting deliveries say temporal_unavailable in the Delivery Log and the gauge; back, they go out and it clears', async () => {
    await onlyWebhook('/outbox');
    const proxy = await TcpProxy.to(process.env.TEST_TEMPORAL_ADDRESS!).start();
    const unreachable = await clientThrough(proxy);
    try {
      proxy.set('refusing');
      await withWorker({ outboxClient: unreachable.client }, async () => {
        await ingest('evt_outbox_blocked');
        const waiting = await onceStalled('evt_outbox_blocked', 'the Delivery Log to say why the delivery waits');
        expect(waiting).toMatchObject({ status: 'pending', attemptCount: 0, stalled: { reason: 'temporal_unavailable', since: expect.any(String) } });
        expect((await stalledGauge()).temporal_unavailable).toBeGreaterThanOrEqual(1);
        expect(requestsOf('/outbox')).toHaveLength(0);

        proxy.set('open');
        const sent = await waitFor(async () => ((await deliveryOf('evt_outbox_blocked')).status === 'succeeded' ? deliveryOf('evt_outbox_blocked') : null), 'the delivery once Temporal is back', 90_000, 250);
        expect(sent).toMatchObject({ attemptCount: 1, stalled: null });
        expect((await stalledGauge()).temporal_unavailable).toBe(0);
      });
    } finally {
      await unreachable.close();
      await proxy.stop();
    }
  });

  it('Temporal unreachable for the attempt (its health signal): the retrying delivery says temporal_unavailable; back, the stall clears', async () => {
    const webhookId = await onlyWebhook('/signal');
    const proxy = await TcpProxy.to(process.env.TEST_TEMPORAL_ADDRESS!).start();
    const unreachable = await clientThrough(proxy);
    try {
      proxy.set('refusing');
      // The endpoint fails, so the attempt must tell the webhook's health workflow: that is what cannot go through.
      receiver.respond = (req) => (req.path === '/signal' && req.headers['x-cloudkeep-event'] === 'secret.created' ? { status: 500 } : { status: 200 });
      await withWorker({ activityClient: unreachable.client }, async () => {
        await ingest('evt_signal_blocked');
        const waiting = await onceStalled('evt_signal_blocked', 'the Delivery Log to say why the attempt is held up');
        expect(waiting).toMatchObject({ status: 'retrying', attemptCount: 1, lastResponseStatus: 500, stalled: { reason: 'temporal_unavailable', since: expect.any(String) } });
        // Since the step began (its first try, seconds before the second failure marked it), not since the mark.
        expect(Date.parse(waiting.stalled.since)).toBeLessThanOrEqual(Date.parse(waiting.attempts[0].attemptedAt) + 5000);
        expect((await stalledGauge()).temporal_unavailable).toBe(1);
        // The outcome is recorded once: the retries report it, they do not send again.
        expect(requestsOf('/signal')).toHaveLength(1);

        proxy.set('open');
        await waitFor(async () => (await deliveryOf('evt_signal_blocked')).stalled === null, 'the stall to clear once Temporal is back', 90_000, 250);
        expect(await deliveryOf('evt_signal_blocked')).toMatchObject({ status: 'retrying', attemptCount: 1 });
        // The gauge clears when a try of the step returns; a try cut at its time limit may get its signal through in
        // the background and clear the row a moment before that.
        await waitFor(async () => (await stalledGauge()).temporal_unavailable === 0, 'the gauge to clear', 90_000, 250);
        expect(requestsOf('/signal')).toHaveLength(1);
        // The failure reached the health rule after all (the retry used to think the signal was no news).
        const health = await waitFor(async () => {
          const res = await stack.api('GET', `/v1/webhooks/${webhookId}`, org.apiKey);
          return res.body.health?.consecutiveFailureDays >= 0 && res.body.health.lastError ? res.body.health : null;
        }, 'the failure to reach the health workflow');
        expect(health).toMatchObject({ lastError: 'HTTP 500' });

        // The endpoint recovers and someone redelivers: the delivery ends, so this worker stops with no attempt left
        // to run (its 1-minute retry would otherwise come due while the worker stops, on a client still reconnecting).
        receiver.respond = () => ({ status: 200, body: 'ok' });
        const deliveryId = (await deliveryOf('evt_signal_blocked')).id;
        expect((await stack.api('POST', `/v1/deliveries/${deliveryId}/redeliver`, org.apiKey)).status).toBe(202);
        await waitFor(async () => ((await stack.client.workflow.getHandle(deliveryWorkflowId(deliveryId)).describe()).status.name === 'COMPLETED' ? true : null), 'the delivery to end', 90_000, 250);
        expect(await deliveryOf('evt_signal_blocked')).toMatchObject({ status: 'succeeded', attemptCount: 2 });
        expect(requestsOf('/signal')).toHaveLength(2);
      });
    } finally {
      receiver.respond = () => ({ status: 200, body: 'ok' });
      await unreachable.close();
      await proxy.stop();
    }
  });
});

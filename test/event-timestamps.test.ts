/**
 * Event times PostgreSQL stores but JavaScript cannot read back as PostgreSQL renders them (years before 1, written
 * `… BC`, and after 9999, written with five digits). Ingest refuses them; the worker reads event times as epoch
 * milliseconds, so one already stored is sent instead of failing its attempt once a minute for ever.
 */
import { deliveryAttemptsStore } from '../src/db/stores/delivery-attempts';
import { toEventPayload } from '../src/domain/event-payload';
import { Receiver } from './support/receiver';
import { withStackPerFile, Org, secretCreatedData, Stack } from './support/stack';
import { waitFor } from './support/wait';

let stack: Stack;
let org: Org;
let receiver: Receiver;

withStackPerFile((parts) => ({ stack, org, receiver } = parts));

const ingest = (id: string, timestamp: string) => stack.api('POST', '/v1/events', org.serviceToken, { id, event: 'secret.created', timestamp, data: secretCreatedData });

describe('POST /v1/events', () => {
  it.each([
    ['0000-01-01T00:00:00Z', 'year 0'],
    ['0001-01-01T00:00:00+14:00', 'year 0 once in UTC'],
    ['9999-12-31T23:59:59-23:59', 'year 10000 once in UTC'],
  ])('refuses %s (%s) with 400 problem+json naming body.timestamp', async (timestamp) => {
    const res = await ingest('evt_refused', timestamp);
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.errors).toEqual([{ field: 'body.timestamp', message: expect.stringContaining('0001 to 9999') }]);
    expect(await stack.db('events').where({ id: 'evt_refused' })).toHaveLength(0);
  });

  it.each([
    ['evt_first_year', '0001-01-01T00:00:00Z'],
    ['evt_first_year_offset', '0001-01-01T00:30:00-00:30'],
    ['evt_last_year', '9999-12-31T23:59:59Z'],
    ['evt_last_year_offset', '9999-12-31T10:00:00+10:00'],
  ])('accepts %s (%s): still within 0001–9999 in UTC', async (id, timestamp) => {
    expect((await ingest(id, timestamp)).status).toBe(202);
  });

  it('reads a fraction of any length to the millisecond (V8 alone reads .0000000999000000 as 999 ms)', async () => {
    expect((await ingest('evt_long_fraction', '2026-01-01T00:00:00.0000000999000000Z')).status).toBe(202);
    expect((await ingest('evt_long_fraction_2', '9998-01-01T00:00:00.0007000000+00:00')).status).toBe(202);
    const stored = await stack.db('events').whereIn('id', ['evt_long_fraction', 'evt_long_fraction_2']).orderBy('id').select('timestamp');
    expect(stored.map((e: { timestamp: Date }) => e.timestamp.toISOString())).toEqual(['2026-01-01T00:00:00.000Z', '9998-01-01T00:00:00.000Z']);
  });
});

describe('an event stored with a time outside 0001–9999', () => {
  it('is read by the attempt without error (PostgreSQL itself, no mock)', async () => {
    const webhookId = (await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/read`, events: ['vault.created'] })).body.id;
    await stack.db('events').insert([
      { organization_id: org.id, id: 'evt_bc', type: 'vault.created', timestamp: stack.db.raw(`'0001-01-01 00:00:00+00 BC'::timestamptz`), data: JSON.stringify({ vaultId: 'v' }), delivery_count: 1 },
      { organization_id: org.id, id: 'evt_10k', type: 'vault.created', timestamp: stack.db.raw(`'10000-01-01 00:00:00.5+00'::timestamptz`), data: JSON.stringify({ vaultId: 'v' }), delivery_count: 1 },
    ]);
    await stack.db('deliveries').insert([
      { id: 'dlv_bc', organization_id: org.id, webhook_id: webhookId, event_id: 'evt_bc', event_type: 'vault.created', status: 'pending' },
      { id: 'dlv_10k', organization_id: org.id, webhook_id: webhookId, event_id: 'evt_10k', event_type: 'vault.created', status: 'pending' },
    ]);
    // The form the old read used, which `new Date()` cannot parse.
    const rendered = await stack.db.raw(`SELECT row_to_json(e)->>'timestamp' AS t FROM (SELECT timestamp FROM events WHERE id IN ('evt_bc', 'evt_10k') ORDER BY id) e`);
    expect(rendered.rows.map((r: { t: string }) => Number.isNaN(new Date(r.t).getTime()))).toEqual([true, true]);

    const bc = await deliveryAttemptsStore.loadContext(stack.db, 'dlv_bc', 'step');
    const tenK = await deliveryAttemptsStore.loadContext(stack.db, 'dlv_10k', 'step');
    expect(toEventPayload(bc!.event!).timestamp).toBe('0000-01-01T00:00:00Z');
    expect(toEventPayload(tenK!.event!).timestamp).toBe('+010000-01-01T00:00:00.500Z');
  });

  it('is delivered: the delivery succeeds instead of its attempt failing for ever', async () => {
    await stack.api('POST', '/v1/webhooks', org.apiKey, { url: `${receiver.url}/sent`, events: ['secret.created'] });
    await waitFor(() => receiver.requests.find((r) => r.path === '/sent'), 'the ping');
    // Stored while no worker runs, then moved to year 0: the state an event ingested before the fix is in.
    await stack.stopWorker();
    try {
      expect((await ingest('evt_year0', '2026-01-01T00:00:00Z')).status).toBe(202);
      await stack.db('events').where({ id: 'evt_year0' }).update({ timestamp: stack.db.raw(`'0001-01-01 00:00:00+00 BC'::timestamptz`) });
    } finally {
      await stack.startWorker();
    }
    const sent = await waitFor(() => receiver.requests.find((r) => r.path === '/sent' && r.headers['x-cloudkeep-event'] === 'secret.created'), 'the delivery', 60_000);
    expect(JSON.parse(sent.body)).toMatchObject({ id: 'evt_year0', timestamp: '0000-01-01T00:00:00Z' });
    const [delivery] = await stack.db('deliveries').where({ event_id: 'evt_year0' });
    await waitFor(async () => (await stack.db('deliveries').where({ id: delivery.id }).first()).status === 'succeeded', 'the logged success');
  });
});

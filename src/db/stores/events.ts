import type { Db } from '../knex';
import { PreparedStatement } from '../prepared';

/** The channel new deliveries are announced on; every worker's outbox dispatcher listens (src/dispatch/outbox-dispatcher.ts). */
export const OUTBOX_CHANNEL = 'ckw_outbox';

export interface EventRow {
  organization_id: string;
  id: string;
  type: string;
  timestamp: Date;
  data: Record<string, unknown>;
  delivery_count: number;
  received_at: Date;
  dispatched_at: Date | null;
  /** W3C traceparent of the ingest request's span, when tracing was on: the dispatcher continues its trace. */
  traceparent: string | null;
}

/**
 * An event and its deliveries in one statement (atomic on its own); a repeated event id inserts nothing. New
 * deliveries wake the workers' outbox dispatchers (the notification is sent at commit). The traced form also stores
 * the ingest span's traceparent; with tracing off the statement is the same as before tracing existed.
 */
const insertWithDeliveries = (traced: boolean) => `WITH ev AS (
         INSERT INTO events (organization_id, id, type, timestamp, data, delivery_count${traced ? ', traceparent' : ''})
         VALUES (?, ?, ?, ?, ?::json, ?${traced ? ', ?' : ''})
         ON CONFLICT (organization_id, id) DO NOTHING
         RETURNING organization_id, id, type
       ), dl AS (
         INSERT INTO deliveries (id, organization_id, webhook_id, event_id, event_type, status, last_error)
         SELECT d.id, ev.organization_id, d.webhook_id, ev.id, ev.type, d.status, d.last_error
           FROM ev, jsonb_to_recordset(?::jsonb) AS d(id text, webhook_id text, status text, last_error text)
         RETURNING id
       )
       SELECT (SELECT count(*) FROM ev)::int AS created, (SELECT count(*) FROM dl)::int AS deliveries,
              (SELECT pg_notify('${OUTBOX_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM dl)) AS notified`;
const INSERT_WITH_DELIVERIES = new PreparedStatement('insert-event-with-deliveries', insertWithDeliveries(false));
const INSERT_TRACED_WITH_DELIVERIES = new PreparedStatement('insert-traced-event-with-deliveries', insertWithDeliveries(true));

const MARK_MANY_DISPATCHED = new PreparedStatement(
  'mark-events-dispatched',
  `UPDATE events SET dispatched_at = now()
    WHERE dispatched_at IS NULL AND (organization_id, id) IN (SELECT * FROM unnest(?::text[], ?::text[]))`,
);

/**
 * The next events to dispatch, in order: pings first (a person is waiting), then the organizations' oldest in
 * weighted fair order — an organization's n-th waiting event takes the virtual turn (n + its recent service) ÷ its
 * fairness weight, where recent service (from the dispatcher, decaying) counts the events it had dispatched lately.
 * So a tenant with a backlog waits its turn instead of in front of everyone, a tenant that has just been served
 * yields to one that has not, and a lone tenant still gets a whole batch. Organizations with a backlog are found by
 * a loose index scan (one probe each); each is read at most a batch deep. Not locked: see LOCK_FOR_DISPATCH.
 */
const DISPATCH_CANDIDATES = `WITH RECURSIVE orgs(organization_id) AS (
         (SELECT organization_id FROM events WHERE dispatched_at IS NULL AND delivery_count > 0 ORDER BY organization_id LIMIT 1)
         UNION ALL
         SELECT (SELECT e.organization_id FROM events e
                  WHERE e.dispatched_at IS NULL AND e.delivery_count > 0 AND e.organization_id > orgs.organization_id
                  ORDER BY e.organization_id LIMIT 1)
           FROM orgs WHERE orgs.organization_id IS NOT NULL
       ), candidates AS (
         (SELECT organization_id, id, delivery_count, 0::float8 AS turn, received_at FROM events
           WHERE dispatched_at IS NULL AND delivery_count > 0 AND type = 'ping' ORDER BY received_at LIMIT ?)
         UNION ALL
         SELECT c.organization_id, c.id, c.delivery_count,
                (c.n + coalesce((?::jsonb ->> c.organization_id)::float8, 0)) / o.fairness_weight AS turn, c.received_at
           FROM orgs JOIN organizations o ON o.id = orgs.organization_id
           CROSS JOIN LATERAL (
             -- numbered after the limit: the window reads a batch, not the organization's whole backlog
             SELECT x.organization_id, x.id, x.delivery_count, x.received_at, row_number() OVER (ORDER BY x.received_at) AS n
               FROM (SELECT e.organization_id, e.id, e.delivery_count, e.received_at FROM events e
                      WHERE e.organization_id = orgs.organization_id AND e.dispatched_at IS NULL AND e.delivery_count > 0 AND e.type <> 'ping'
                      ORDER BY e.received_at
                      LIMIT ?) x
           ) c
       )
       SELECT organization_id, id, delivery_count FROM candidates ORDER BY turn, received_at LIMIT ?`;

/** Locks the chosen events for this transaction; one another worker holds, or has dispatched meanwhile, is skipped. */
const LOCK_FOR_DISPATCH = `SELECT organization_id, id, delivery_count FROM events
  WHERE (organization_id, id) IN (SELECT * FROM unnest(?::text[], ?::text[])) AND dispatched_at IS NULL
  FOR UPDATE SKIP LOCKED`;

export interface DispatchCandidate {
  organization_id: string;
  id: string;
  delivery_count: number;
}

export const eventsStore = {
  /** The next `limit` events to dispatch, in fair order (DISPATCH_CANDIDATES); `recentService` by organization id. */
  async dispatchCandidates(db: Db, limit: number, recentService: Record<string, number>): Promise<DispatchCandidate[]> {
    return (await db.raw(DISPATCH_CANDIDATES, [limit, JSON.stringify(recentService), limit, limit])).rows;
  },
  /** Locks these events for dispatch (inside a transaction); returns those it got. */
  async lockForDispatch(trx: Db, events: { organization_id: string; id: string }[]): Promise<DispatchCandidate[]> {
    return (await trx.raw(LOCK_FOR_DISPATCH, [events.map((e) => e.organization_id), events.map((e) => e.id)])).rows;
  },
  /**
   * Stores a new event with its deliveries in one statement (atomic, one round trip); nothing when the
   * (organization, id) exists already. Returns whether it was created.
   */
  async insertWithDeliveries(
    db: Db,
    row: Pick<EventRow, 'organization_id' | 'id' | 'type' | 'timestamp' | 'data' | 'delivery_count'> & { traceparent?: string | null },
    deliveries: { id: string; webhook_id: string; status: string; last_error: string | null }[],
  ): Promise<boolean> {
    const values = [row.organization_id, row.id, row.type, row.timestamp, JSON.stringify(row.data), row.delivery_count];
    const rows = row.traceparent
      ? await INSERT_TRACED_WITH_DELIVERIES.run<{ created: number }>(db, [...values, row.traceparent, JSON.stringify(deliveries)])
      : await INSERT_WITH_DELIVERIES.run<{ created: number }>(db, [...values, JSON.stringify(deliveries)]);
    return rows[0].created === 1;
  },
  /** Marks many events dispatched in one statement. */
  async markManyDispatched(db: Db, keys: { organizationId: string; id: string }[]): Promise<void> {
    if (!keys.length) return;
    await MARK_MANY_DISPATCHED.run(db, [keys.map((k) => k.organizationId), keys.map((k) => k.id)]);
  },
  async get(db: Db, organizationId: string, id: string): Promise<EventRow | undefined> {
    return db<EventRow>('events').where({ organization_id: organizationId, id }).first();
  },
  async markDispatched(db: Db, organizationId: string, id: string): Promise<void> {
    await db('events').where({ organization_id: organizationId, id }).whereNull('dispatched_at').update({ dispatched_at: db.fn.now() });
  },
  /** Events whose fan-out may never have reached Temporal (a crash between commit and start). */
  async listUndispatched(db: Db, olderThan: Date, limit: number): Promise<EventRow[]> {
    return db<EventRow>('events').whereNull('dispatched_at').where('received_at', '<', olderThan).orderBy('received_at').limit(limit);
  },
  /** Retention: events received before `cutoff` that no delivery refers to any more and that were dispatched (or had none). */
  async deleteUnreferencedBefore(db: Db, cutoff: Date, limit: number): Promise<number> {
    const doomed = db('events as e')
      .where('e.received_at', '<', cutoff)
      .where((q) => q.whereNotNull('e.dispatched_at').orWhere('e.delivery_count', 0))
      .whereNotExists((q) => q.select(db.raw('1')).from('deliveries as d').whereRaw('d.organization_id = e.organization_id and d.event_id = e.id'))
      .limit(limit)
      .select('e.organization_id', 'e.id');
    return db('events').whereIn(['organization_id', 'id'], doomed).del();
  },
};

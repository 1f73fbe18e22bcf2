import type { Db } from '../knex';
import { PreparedStatement } from '../prepared';

/** The channel new deliveries are announced on; every worker's outbox dispatcher listens (src/services/dispatcher.ts). */
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
}

/**
 * An event and its deliveries in one statement (atomic on its own); a repeated event id inserts nothing. New
 * deliveries wake the workers' outbox dispatchers (the notification is sent at commit).
 */
const INSERT_WITH_DELIVERIES = new PreparedStatement('insert-event-with-deliveries', `WITH ev AS (
         INSERT INTO events (organization_id, id, type, timestamp, data, delivery_count) VALUES (?, ?, ?, ?, ?::json, ?)
         ON CONFLICT (organization_id, id) DO NOTHING
         RETURNING organization_id, id, type
       ), dl AS (
         INSERT INTO deliveries (id, organization_id, webhook_id, event_id, event_type, status, last_error)
         SELECT d.id, ev.organization_id, d.webhook_id, ev.id, ev.type, d.status, d.last_error
           FROM ev, jsonb_to_recordset(?::jsonb) AS d(id text, webhook_id text, status text, last_error text)
         RETURNING id
       )
       SELECT (SELECT count(*) FROM ev)::int AS created, (SELECT count(*) FROM dl)::int AS deliveries,
              (SELECT pg_notify('${OUTBOX_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM dl)) AS notified`);

const MARK_MANY_DISPATCHED = new PreparedStatement(
  'mark-events-dispatched',
  `UPDATE events SET dispatched_at = now()
    WHERE dispatched_at IS NULL AND (organization_id, id) IN (SELECT * FROM unnest(?::text[], ?::text[]))`,
);

/**
 * The next events to dispatch, locked for this transaction (others skip them): pings first, then the organizations'
 * oldest in weighted round robin — an organization's n-th event takes turn n ÷ its fairness weight — so a tenant's
 * backlog waits its turn instead of in front of everyone, and a lone tenant still gets a whole batch. Organizations
 * are found by a loose index scan (one probe each); each is read at most a batch deep.
 */
const CLAIM_FOR_DISPATCH = `WITH RECURSIVE orgs(organization_id) AS (
         (SELECT organization_id FROM events WHERE dispatched_at IS NULL AND delivery_count > 0 ORDER BY organization_id LIMIT 1)
         UNION ALL
         SELECT (SELECT e.organization_id FROM events e
                  WHERE e.dispatched_at IS NULL AND e.delivery_count > 0 AND e.organization_id > orgs.organization_id
                  ORDER BY e.organization_id LIMIT 1)
           FROM orgs WHERE orgs.organization_id IS NOT NULL
       ), candidates AS (
         (SELECT organization_id, id, 0::float8 AS turn, received_at FROM events
           WHERE dispatched_at IS NULL AND delivery_count > 0 AND type = 'ping' ORDER BY received_at LIMIT ?)
         UNION ALL
         SELECT c.organization_id, c.id, c.n / o.fairness_weight AS turn, c.received_at
           FROM orgs JOIN organizations o ON o.id = orgs.organization_id
           CROSS JOIN LATERAL (
             -- numbered after the limit: the window reads a batch, not the organization's whole backlog
             SELECT x.organization_id, x.id, x.received_at, row_number() OVER (ORDER BY x.received_at) AS n
               FROM (SELECT e.organization_id, e.id, e.received_at FROM events e
                      WHERE e.organization_id = orgs.organization_id AND e.dispatched_at IS NULL AND e.delivery_count > 0 AND e.type <> 'ping'
                      ORDER BY e.received_at
                      LIMIT ?) x
           ) c
       )
       SELECT e.organization_id, e.id, e.type FROM events e
         JOIN candidates c ON c.organization_id = e.organization_id AND c.id = e.id
        WHERE e.dispatched_at IS NULL
        ORDER BY c.turn, c.received_at
        LIMIT ?
        FOR UPDATE OF e SKIP LOCKED`;

export const eventsStore = {
  /** Locks up to `limit` events to dispatch now (inside a transaction; see CLAIM_FOR_DISPATCH). */
  async claimForDispatch(trx: Db, limit: number): Promise<{ organization_id: string; id: string; type: string }[]> {
    return (await trx.raw(CLAIM_FOR_DISPATCH, [limit, limit, limit])).rows;
  },
  /**
   * Stores a new event with its deliveries in one statement (atomic, one round trip); nothing when the
   * (organization, id) exists already. Returns whether it was created.
   */
  async insertWithDeliveries(
    db: Db,
    row: Pick<EventRow, 'organization_id' | 'id' | 'type' | 'timestamp' | 'data' | 'delivery_count'>,
    deliveries: { id: string; webhook_id: string; status: string; last_error: string | null }[],
  ): Promise<boolean> {
    const rows = await INSERT_WITH_DELIVERIES.run<{ created: number }>(db, [
      row.organization_id, row.id, row.type, row.timestamp, JSON.stringify(row.data), row.delivery_count, JSON.stringify(deliveries),
    ]);
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

import type { Db } from '../knex';
import type { StallReason } from '../../domain/stalls';
import { Keyed, KeysetPosition, newestFirst } from '../keyset';

/** `skipped`: the event matched while the webhook was inactive or disabled; kept (no request) for a recovery. */
export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped'];

export interface DeliveryRow {
  id: string;
  organization_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  last_response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  /** While the delivery waits for its slot under the webhook's rate limit: the slot (equal to next_attempt_at). */
  paced_until: Date | null;
  /** While the delivery waits on our own infrastructure (src/domain/stalls.ts): why, and since when. */
  stalled_reason: StallReason | null;
  stalled_since: Date | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
}

export const deliveriesStore = {
  async get(db: Db, organizationId: string, id: string): Promise<DeliveryRow | undefined> {
    return db<DeliveryRow>('deliveries').where({ id, organization_id: organizationId }).first();
  },
  async getAny(db: Db, id: string): Promise<DeliveryRow | undefined> {
    return db<DeliveryRow>('deliveries').where({ id }).first();
  },
  async listIdsForEvent(db: Db, organizationId: string, eventId: string): Promise<string[]> {
    const rows = await db<DeliveryRow>('deliveries').where({ organization_id: organizationId, event_id: eventId }).select('id');
    return rows.map((r) => r.id);
  },
  /** Deliveries of a webhook that may still attempt: the ones to stop when it is deleted or disabled. */
  async listOpenIdsForWebhook(db: Db, webhookId: string): Promise<string[]> {
    const rows = await db<DeliveryRow>('deliveries').where({ webhook_id: webhookId }).whereIn('status', ['pending', 'retrying']).select('id');
    return rows.map((r) => r.id);
  },
  /** The Delivery Log: newest first, cursor on (created_at, id). */
  async listForWebhook(db: Db, webhookId: string, filter: DeliveryFilter, limit: number, after?: KeysetPosition): Promise<Keyed<DeliveryRow>[]> {
    const q = db<DeliveryRow>('deliveries').where({ webhook_id: webhookId });
    if (filter.status) q.where({ status: filter.status });
    if (filter.eventType) q.where({ event_type: filter.eventType });
    return newestFirst(db, q, limit, after);
  },
  async update(db: Db, id: string, changes: Partial<DeliveryRow>): Promise<DeliveryRow | undefined> {
    const [row] = await db('deliveries').where({ id }).update({ ...changes, updated_at: db.fn.now() }).returning('*');
    return row;
  },
  /** Retention: deliveries finished before `cutoff`, locked for deletion; never pending/retrying (a redelivery clears completed_at). */
  async lockPrunable(db: Db, cutoff: Date, limit: number): Promise<string[]> {
    const rows = await db<DeliveryRow>('deliveries')
      .where('completed_at', '<', cutoff)
      .whereIn('status', ['succeeded', 'failed', 'cancelled'])
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .select('id');
    return rows.map((r) => r.id);
  },
  /** Its attempt keeps failing on our infrastructure: say why on the delivery (if it is still open). */
  async markStalled(db: Db, id: string, reason: StallReason, since: Date): Promise<void> {
    await db('deliveries')
      .where({ id })
      .whereIn('status', ['pending', 'retrying'])
      .update({ stalled_reason: reason, stalled_since: db.raw('coalesce(stalled_since, ?)', [since]) });
  },
  /** Its attempt went through (the statements that record, cancel or pace an attempt clear it themselves). */
  async clearStalled(db: Db, id: string): Promise<void> {
    await db('deliveries').where({ id }).whereNotNull('stalled_reason').update({ stalled_reason: null, stalled_since: null });
  },
  /**
   * The outbox cannot start workflows (Temporal unreachable): every delivery still waiting in it says so. Returns how
   * many wait. The statement that records each one's first attempt clears it.
   */
  async markUndispatchedStalled(db: Db, reason: StallReason): Promise<number> {
    const result = await db.raw(
      `UPDATE deliveries d SET stalled_reason = ?, stalled_since = coalesce(d.stalled_since, now())
         FROM events e
        WHERE e.organization_id = d.organization_id AND e.id = d.event_id AND e.dispatched_at IS NULL AND e.delivery_count > 0
          AND d.status = 'pending'`,
      [reason],
    );
    return result.rowCount ?? 0;
  },
  async deleteByIds(db: Db, ids: string[]): Promise<number> {
    return ids.length ? db('deliveries').whereIn('id', ids).del() : 0;
  },
};

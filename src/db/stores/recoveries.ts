import type { Db } from '../knex';
import type { DeliveryRow } from './deliveries';

export type RecoverableStatus = 'failed' | 'skipped';
export const RECOVERABLE_STATUSES: RecoverableStatus[] = ['failed', 'skipped'];
export type RecoveryStatus = 'running' | 'completed';

export interface RecoveryRow {
  id: string;
  organization_id: string;
  webhook_id: string;
  since: Date;
  until: Date;
  statuses: RecoverableStatus[];
  total: number;
  started: number;
  status: RecoveryStatus;
  created_at: Date;
  completed_at: Date | null;
}

/** Which of a webhook's deliveries a recovery covers: by status, created in [since, until]. */
export interface RecoverableFilter {
  webhookId: string;
  since: Date;
  until: Date;
  statuses: RecoverableStatus[];
}

/**
 * The position of the last delivery a recovery handled: it pages on (created_at, id), oldest first. The time is
 * PostgreSQL's own text (microseconds): a JS Date would round it to milliseconds and page wrongly.
 */
export interface RecoveryCursor {
  createdAt: string;
  id: string;
}

const recoverable = (db: Db, f: RecoverableFilter) =>
  db<DeliveryRow>('deliveries').where({ webhook_id: f.webhookId }).whereIn('status', f.statuses).whereBetween('created_at', [f.since, f.until]);

/** The webhook_recoveries table, and the reads of `deliveries` that only a recovery makes. */
export const recoveriesStore = {
  async insert(db: Db, row: Pick<RecoveryRow, 'id' | 'organization_id' | 'webhook_id' | 'since' | 'until' | 'statuses' | 'total'>): Promise<RecoveryRow> {
    const [created] = await db('webhook_recoveries')
      .insert({ ...row, statuses: JSON.stringify(row.statuses) })
      .returning('*');
    return created;
  },

  async get(db: Db, organizationId: string, webhookId: string, id: string): Promise<RecoveryRow | undefined> {
    return db<RecoveryRow>('webhook_recoveries').where({ id, organization_id: organizationId, webhook_id: webhookId }).first();
  },

  async getAny(db: Db, id: string): Promise<RecoveryRow | undefined> {
    return db<RecoveryRow>('webhook_recoveries').where({ id }).first();
  },

  async remove(db: Db, id: string): Promise<void> {
    await db('webhook_recoveries').where({ id }).delete();
  },

  async findRunning(db: Db, webhookId: string): Promise<RecoveryRow | undefined> {
    return db<RecoveryRow>('webhook_recoveries').where({ webhook_id: webhookId, status: 'running' }).first();
  },

  async addStarted(db: Db, id: string, count: number): Promise<void> {
    if (count > 0) await db('webhook_recoveries').where({ id }).increment('started', count);
  },

  async complete(db: Db, id: string): Promise<void> {
    await db('webhook_recoveries').where({ id, status: 'running' }).update({ status: 'completed', completed_at: db.fn.now() });
  },

  async countRecoverable(db: Db, filter: RecoverableFilter): Promise<number> {
    const [{ count }] = await recoverable(db, filter).count<{ count: string }[]>({ count: '*' });
    return Number(count);
  },

  /** The next page of recoverable deliveries after `after`, oldest first, with the data their workflows need. */
  async nextRecoverable(db: Db, filter: RecoverableFilter, after: RecoveryCursor | null, limit: number) {
    const q = recoverable(db, filter)
      .join('events as e', (j) => j.on('e.organization_id', 'deliveries.organization_id').andOn('e.id', 'deliveries.event_id'))
      .select('deliveries.id', 'deliveries.webhook_id', 'deliveries.event_id', 'deliveries.event_type', 'deliveries.status', 'deliveries.attempt_count', 'e.data')
      .select(db.raw('deliveries.created_at::text as created_at_exact'));
    if (after) q.whereRaw('(deliveries.created_at, deliveries.id) > (?::timestamptz, ?)', [after.createdAt, after.id]);
    const rows: (Pick<DeliveryRow, 'id' | 'webhook_id' | 'event_id' | 'event_type' | 'status' | 'attempt_count'> & { data: Record<string, unknown>; created_at_exact: string })[] = await q
      .orderBy([{ column: 'deliveries.created_at', order: 'asc' }, { column: 'deliveries.id', order: 'asc' }])
      .limit(limit);
    return rows;
  },
};

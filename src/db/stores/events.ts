import type { Db } from '../knex';

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

export const eventsStore = {
  /** Inserts unless (organization, id) exists; returns the row and whether this call created it. */
  async insertOnce(db: Db, row: Pick<EventRow, 'organization_id' | 'id' | 'type' | 'timestamp' | 'data' | 'delivery_count'>): Promise<{ row: EventRow; created: boolean }> {
    const inserted = await db('events')
      .insert({ ...row, data: JSON.stringify(row.data) })
      .onConflict(['organization_id', 'id'])
      .ignore()
      .returning('*');
    if (inserted.length) return { row: inserted[0], created: true };
    const existing = await db<EventRow>('events').where({ organization_id: row.organization_id, id: row.id }).first();
    return { row: existing!, created: false };
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
};

import type { Db } from '../knex';

export type AttemptTrigger = 'scheduled' | 'manual';

export interface DeliveryAttemptRow {
  id: string;
  delivery_id: string;
  number: number;
  idempotency_key: string;
  trigger: AttemptTrigger;
  attempted_at: Date;
  request_url: string;
  request_headers: Record<string, string>;
  request_body: string;
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  succeeded: boolean;
  retry_after_ms: number | null;
}

export type NewAttemptRow = Omit<DeliveryAttemptRow, 'id' | 'number'>;

export const deliveryAttemptsStore = {
  async findByIdempotencyKey(db: Db, key: string): Promise<DeliveryAttemptRow | undefined> {
    return db<DeliveryAttemptRow>('delivery_attempts').where({ idempotency_key: key }).first();
  },
  /** Numbers the attempt within its delivery; callers hold the delivery row lock. */
  async insert(db: Db, row: NewAttemptRow): Promise<DeliveryAttemptRow> {
    const [{ next }] = await db('delivery_attempts').where({ delivery_id: row.delivery_id }).select(db.raw('coalesce(max(number), 0) + 1 as next'));
    const [created] = await db('delivery_attempts')
      .insert({ ...row, number: next, request_headers: JSON.stringify(row.request_headers) })
      .returning('*');
    return created;
  },
  async listForDelivery(db: Db, deliveryId: string): Promise<DeliveryAttemptRow[]> {
    return db<DeliveryAttemptRow>('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');
  },
  async deleteForDeliveries(db: Db, deliveryIds: string[]): Promise<number> {
    return deliveryIds.length ? db('delivery_attempts').whereIn('delivery_id', deliveryIds).del() : 0;
  },
};

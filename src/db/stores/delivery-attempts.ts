import type { Db } from '../knex';
import { PreparedStatement } from '../prepared';
import type { DeliveryRow, DeliveryStatus } from './deliveries';
import type { EventRow } from './events';
import type { WebhookRow } from './webhooks';

export type AttemptTrigger = 'scheduled' | 'manual';

export interface DeliveryAttemptRow {
  id: string;
  delivery_id: string;
  number: number;
  idempotency_key: string;
  /** The workflow step this try belongs to; several tries share it when a crash cut one short. */
  step_key: string;
  trigger: AttemptTrigger;
  attempted_at: Date;
  request_url: string;
  request_headers: Record<string, string>;
  request_body: string;
  response_status: number | null;
  response_body: string | null;
  /** Null while the request is in flight. */
  duration_ms: number | null;
  error: string | null;
  /** Null while the request is in flight. */
  succeeded: boolean | null;
  retry_after_ms: number | null;
}

export type StartedAttemptRow = Pick<
  DeliveryAttemptRow,
  'delivery_id' | 'idempotency_key' | 'step_key' | 'trigger' | 'attempted_at' | 'request_url' | 'request_headers' | 'request_body'
>;

export interface AttemptResult {
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  succeeded: boolean;
  retry_after_ms: number | null;
}

/** Everything one attempt needs, read in one query. */
export interface AttemptContext {
  delivery: Pick<DeliveryRow, 'id' | 'organization_id' | 'webhook_id' | 'event_id' | 'event_type' | 'status'>;
  webhook: Pick<WebhookRow, 'id' | 'destination' | 'target_ciphertext' | 'secret_ciphertext' | 'status' | 'deleted_at' | 'last_failure_at' | 'last_success_at' | 'standard_webhooks' | 'last_duration_ms'> | null;
  event: Pick<EventRow, 'id' | 'type' | 'timestamp' | 'data'> | null;
  /** The newest try of this workflow step, if one was made before (a retry after a crash). */
  lastTry: DeliveryAttemptRow | null;
}

export interface RecordedOutcome {
  last_failure_at: Date | null;
  last_success_at: Date | null;
}

const FINISHED: DeliveryStatus[] = ['succeeded', 'failed', 'cancelled'];

// The delivery's new status: a success decides it; a failed manual attempt leaves a finished delivery as it was.
const NEW_STATUS = `(CASE WHEN ?::boolean THEN 'succeeded' WHEN ?::boolean AND status IN (${FINISHED.map(() => '?').join(',')}) THEN status ELSE ?::text END)`;
const TO_ACTIVE = `(deleted_at IS NULL AND ?::boolean AND status IN ('pending', 'inactive'))`;
const TO_INACTIVE = `(deleted_at IS NULL AND ?::boolean AND status = 'pending')`;
/** `complete`'s one statement (its text depends on nothing but the constants above). */
const COMPLETE = new PreparedStatement('complete-attempt', `WITH a AS (
         UPDATE delivery_attempts SET response_status = ?, response_body = ?, duration_ms = ?, error = ?, succeeded = ?, retry_after_ms = ?
          WHERE id = ? RETURNING id
       ), d AS (
         UPDATE deliveries SET
           status = ${NEW_STATUS},
           attempt_count = attempt_count + 1,
           last_response_status = ?, last_error = ?,
           next_attempt_at = CASE WHEN ${NEW_STATUS} = 'retrying' THEN ?::timestamptz ELSE NULL END,
           completed_at = CASE WHEN ${NEW_STATUS} IN ('succeeded', 'failed') THEN ?::timestamptz ELSE NULL END,
           updated_at = now()
          WHERE id = ? RETURNING id
       )
       UPDATE webhooks SET
         status = CASE WHEN ${TO_ACTIVE} THEN 'active' WHEN ${TO_INACTIVE} THEN 'inactive' ELSE status END,
         status_reason = CASE WHEN ${TO_ACTIVE} THEN NULL WHEN ${TO_INACTIVE} THEN ? ELSE status_reason END,
         status_changed_at = CASE WHEN ${TO_ACTIVE} OR ${TO_INACTIVE} THEN now() ELSE status_changed_at END,
         updated_at = CASE WHEN ${TO_ACTIVE} OR ${TO_INACTIVE} THEN now() ELSE updated_at END,
         last_success_at = CASE WHEN ?::boolean THEN greatest(coalesce(last_success_at, ?::timestamptz), ?::timestamptz) ELSE last_success_at END,
         last_failure_at = CASE WHEN ?::boolean THEN last_failure_at ELSE greatest(coalesce(last_failure_at, ?::timestamptz), ?::timestamptz) END,
         last_duration_ms = ?
        WHERE id = ?
        RETURNING last_failure_at, last_success_at`);

/**
 * Everything an attempt needs, in one query: the delivery, its webhook and event, and any earlier try of the step.
 * The event's time comes as epoch milliseconds: row_to_json writes years before 1 as `… BC` and after 9999 with five
 * digits, which `new Date()` cannot parse (every attempt of such an event threw, retried once a minute, forever).
 * A number always makes a Date; one out of JavaScript's range (or ±infinity, null here) makes an invalid one, which
 * the attempt refuses as undeliverable.
 */
const LOAD_CONTEXT = new PreparedStatement('load-attempt-context-v2', `SELECT row_to_json(d) AS delivery, row_to_json(w) AS webhook, row_to_json(e) AS event, row_to_json(a) AS last_try
         FROM (SELECT id, organization_id, webhook_id, event_id, event_type, status FROM deliveries WHERE id = ?) d
         LEFT JOIN LATERAL (SELECT id, destination, target_ciphertext, secret_ciphertext, status, deleted_at, last_failure_at, last_success_at, standard_webhooks, last_duration_ms
                              FROM webhooks WHERE id = d.webhook_id) w ON true
         LEFT JOIN LATERAL (SELECT id, type, CASE WHEN isfinite(timestamp) THEN round(extract(epoch FROM timestamp) * 1000)::bigint END AS timestamp_ms, data FROM events WHERE organization_id = d.organization_id AND id = d.event_id) e ON true
         LEFT JOIN LATERAL (SELECT * FROM delivery_attempts WHERE step_key = ? ORDER BY number DESC LIMIT 1) a ON true`);

/** An attempt, written before its request goes out, numbered within its delivery. */
const START_ATTEMPT = new PreparedStatement('start-attempt', `INSERT INTO delivery_attempts (delivery_id, number, idempotency_key, step_key, trigger, attempted_at, request_url, request_headers, request_body)
  SELECT ?, coalesce(max(number), 0) + 1, ?, ?, ?, ?, ?, ?::jsonb, ? FROM delivery_attempts WHERE delivery_id = ?
  RETURNING id`);

export const deliveryAttemptsStore = {
  async listForDelivery(db: Db, deliveryId: string): Promise<DeliveryAttemptRow[]> {
    return db<DeliveryAttemptRow>('delivery_attempts').where({ delivery_id: deliveryId }).orderBy('number');
  },

  async loadContext(db: Db, deliveryId: string, stepKey: string): Promise<AttemptContext | null> {
    const rows = await LOAD_CONTEXT.run<Record<string, any>>(db, [deliveryId, stepKey]);
    if (!rows.length) return null;
    const r = rows[0];
    const date = (v: string | null) => (v ? new Date(v) : null);
    return {
      delivery: r.delivery,
      webhook: r.webhook && { ...r.webhook, deleted_at: date(r.webhook.deleted_at), last_failure_at: date(r.webhook.last_failure_at), last_success_at: date(r.webhook.last_success_at) },
      event: r.event && { id: r.event.id, type: r.event.type, timestamp: new Date(r.event.timestamp_ms ?? NaN), data: r.event.data },
      lastTry: r.last_try && { ...r.last_try, attempted_at: new Date(r.last_try.attempted_at) },
    };
  },

  /** Writes an attempt before its request goes out, numbered within its delivery. */
  async start(db: Db, row: StartedAttemptRow): Promise<string> {
    const rows = await START_ATTEMPT.run<{ id: string }>(db, [
      row.delivery_id, row.idempotency_key, row.step_key, row.trigger, row.attempted_at, row.request_url, JSON.stringify(row.request_headers), row.request_body, row.delivery_id,
    ]);
    return String(rows[0].id);
  },

  /**
   * Closes a try that a crash cut short (the receiver may or may not have seen it) and counts it in its delivery's
   * `attempt_count`, in one statement: the count only moves when this call closed the try, so a repeat adds nothing.
   */
  async markInterrupted(db: Db, id: string, error: string): Promise<void> {
    await db.raw(
      `WITH a AS (UPDATE delivery_attempts SET succeeded = false, error = ? WHERE id = ? AND succeeded IS NULL RETURNING delivery_id)
       UPDATE deliveries SET attempt_count = attempt_count + 1, updated_at = now() WHERE id IN (SELECT delivery_id FROM a)`,
      [error, id],
    );
  },

  /**
   * Ends a delivery no attempt can get past (UndeliverableError): `failed` with the reason, no next attempt; a try
   * already written for it is closed with the reason and counted; a ping's pending webhook turns inactive, as a
   * failed ping makes it. One statement.
   */
  async failUndeliverable(db: Db, o: { deliveryId: string; attemptId: string | null; reason: string }): Promise<void> {
    await db.raw(
      `WITH a AS (
         UPDATE delivery_attempts SET succeeded = false, error = ? WHERE id = ? AND delivery_id = ? AND succeeded IS NULL RETURNING id
       ), d AS (
         UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, completed_at = now(), updated_at = now(),
                attempt_count = attempt_count + (SELECT count(*) FROM a)
          WHERE id = ? RETURNING webhook_id, event_type
       )
       UPDATE webhooks SET status = 'inactive', status_reason = ?, status_changed_at = now(), updated_at = now()
        WHERE id = (SELECT webhook_id FROM d WHERE event_type = 'ping') AND status = 'pending' AND deleted_at IS NULL`,
      [o.reason, o.attemptId, o.deliveryId, o.reason, o.deliveryId, `Ping failed: ${o.reason}`],
    );
  },

  /**
   * Completes an attempt, moves its delivery and its webhook on, in one statement (so one round trip and
   * atomic): the delivery's new status, the webhook's pending/inactive → active on success (pending →
   * inactive on a failed ping), and the webhook's last outcome times, which it returns for the health signal.
   */
  async complete(
    db: Db,
    o: {
      attemptId: string;
      deliveryId: string;
      webhookId: string;
      result: AttemptResult;
      attemptedAt: Date;
      manual: boolean;
      /** The delivery's status if this attempt decides it (a failed manual attempt leaves a finished delivery as it was). */
      status: DeliveryStatus;
      nextAttemptAt: Date | null;
      failedPingReason: string | null;
    },
  ): Promise<RecordedOutcome> {
    const r = o.result;
    const statusArgs = [r.succeeded, o.manual, ...FINISHED, o.status];
    const pingFailed = !r.succeeded && o.failedPingReason !== null;
    const rows = await COMPLETE.run<RecordedOutcome>(
      db,
      [
        r.response_status, r.response_body, r.duration_ms, r.error, r.succeeded, r.retry_after_ms, o.attemptId,
        ...statusArgs, r.response_status, r.error,
        ...statusArgs, o.nextAttemptAt,
        ...statusArgs, o.attemptedAt,
        o.deliveryId,
        r.succeeded, pingFailed, // status
        r.succeeded, pingFailed, o.failedPingReason, // status_reason
        r.succeeded, pingFailed, // status_changed_at
        r.succeeded, pingFailed, // updated_at
        r.succeeded, o.attemptedAt, o.attemptedAt,
        r.succeeded, o.attemptedAt, o.attemptedAt,
        r.duration_ms,
        o.webhookId,
      ],
    );
    return rows[0] ?? { last_failure_at: null, last_success_at: null };
  },

  async deleteForDeliveries(db: Db, deliveryIds: string[]): Promise<number> {
    return deliveryIds.length ? db('delivery_attempts').whereIn('delivery_id', deliveryIds).del() : 0;
  },
};

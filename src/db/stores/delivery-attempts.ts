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
  /** The OpenTelemetry trace the attempt ran in, when tracing was on and the trace sampled. */
  trace_id: string | null;
}

export type StartedAttemptRow = Pick<
  DeliveryAttemptRow,
  'delivery_id' | 'idempotency_key' | 'step_key' | 'trigger' | 'attempted_at' | 'request_url' | 'request_headers' | 'request_body'
> & { trace_id?: string | null };

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
  webhook: Pick<WebhookRow, 'id' | 'destination' | 'target_ciphertext' | 'secret_ciphertext' | 'status' | 'deleted_at' | 'last_failure_at' | 'last_success_at' | 'standard_webhooks' | 'last_duration_ms' | 'rate_limit' | 'send_gate_at'> | null;
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
          WHERE id = ? AND succeeded IS NULL RETURNING id
       ), d AS (
         UPDATE deliveries SET
           status = ${NEW_STATUS},
           attempt_count = attempt_count + 1,
           last_response_status = ?, last_error = ?,
           next_attempt_at = CASE WHEN ${NEW_STATUS} = 'retrying' THEN ?::timestamptz ELSE NULL END,
           paced_until = NULL, stalled_reason = NULL, stalled_since = NULL,
           completed_at = CASE WHEN ${NEW_STATUS} IN ('succeeded', 'failed') THEN ?::timestamptz ELSE NULL END,
           updated_at = now()
          WHERE id = ? AND EXISTS (SELECT 1 FROM a) RETURNING id
       )
       UPDATE webhooks SET
         status = CASE WHEN ${TO_ACTIVE} THEN 'active' WHEN ${TO_INACTIVE} THEN 'inactive' ELSE status END,
         status_reason = CASE WHEN ${TO_ACTIVE} THEN NULL WHEN ${TO_INACTIVE} THEN ? ELSE status_reason END,
         status_changed_at = CASE WHEN ${TO_ACTIVE} OR ${TO_INACTIVE} THEN now() ELSE status_changed_at END,
         updated_at = CASE WHEN ${TO_ACTIVE} OR ${TO_INACTIVE} THEN now() ELSE updated_at END,
         last_success_at = CASE WHEN ?::boolean THEN greatest(coalesce(last_success_at, ?::timestamptz), ?::timestamptz) ELSE last_success_at END,
         last_failure_at = CASE WHEN ?::boolean THEN last_failure_at ELSE greatest(coalesce(last_failure_at, ?::timestamptz), ?::timestamptz) END,
         last_duration_ms = ?
        WHERE id = ? AND EXISTS (SELECT 1 FROM a)
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
         LEFT JOIN LATERAL (SELECT id, destination, target_ciphertext, secret_ciphertext, status, deleted_at, last_failure_at, last_success_at, standard_webhooks, last_duration_ms, rate_limit, send_gate_at
                              FROM webhooks WHERE id = d.webhook_id) w ON true
         LEFT JOIN LATERAL (SELECT id, type, CASE WHEN isfinite(timestamp) THEN round(extract(epoch FROM timestamp) * 1000)::bigint END AS timestamp_ms, data FROM events WHERE organization_id = d.organization_id AND id = d.event_id) e ON true
         LEFT JOIN LATERAL (SELECT * FROM delivery_attempts WHERE step_key = ? ORDER BY number DESC LIMIT 1) a ON true`);

/**
 * Reserves the webhook's next send slot under its rate limit, in one atomic statement on the webhook's row (GCRA
 * without burst): the slot is the later of now and the reservation, and the reservation moves on by 1/rate seconds.
 * Every worker and process reserves on the same row, so the rate holds across all of them. A slot more than a few
 * milliseconds ahead marks the delivery as waiting for it (next_attempt_at = paced_until = the slot) in the same
 * statement. Returns nothing when the webhook has no rate limit (any more). Times are PostgreSQL's clock, read
 * once the row is locked (clock_timestamp()): the wait is returned as a duration so the workflow's timer depends on
 * neither the worker's clock nor its task's start time.
 */
const RESERVE_SLOT = new PreparedStatement('reserve-send-slot', `WITH r AS (
         UPDATE webhooks SET next_send_at = greatest(coalesce(next_send_at, clock_timestamp()), clock_timestamp()) + make_interval(secs => ?::float8 / rate_limit)
          WHERE id = ? AND rate_limit IS NOT NULL AND rate_limit > 0
          RETURNING next_send_at - make_interval(secs => ?::float8 / rate_limit) AS slot, clock_timestamp() AS at
       ), d AS (
         UPDATE deliveries SET next_attempt_at = r.slot, paced_until = r.slot, stalled_reason = NULL, stalled_since = NULL, updated_at = now()
           FROM r
          WHERE deliveries.id = ? AND r.slot > r.at + make_interval(secs => ?::float8 / 1000) AND deliveries.status IN ('pending', 'retrying')
          RETURNING deliveries.id
       ) -- a data-modifying WITH runs whether or not it is read
       SELECT (extract(epoch FROM slot) * 1000)::float8 AS slot_ms, (extract(epoch FROM slot - at) * 1000)::float8 AS wait_ms,
              slot > at + make_interval(secs => ?::float8 / 1000) AS paced
         FROM r`);

/**
 * The gate just before a request to a rate-limited webhook goes out: its send time is the later of now and the
 * previous send plus the interval. Timers that fire late together (a busy worker, a worker back after an outage)
 * would otherwise release their deliveries in one clump; the gate spreads them out again. A send time more than
 * `max` ms ahead is not taken (no row comes back): that attempt queues again on a durable timer instead.
 * Both statements read the clock with clock_timestamp(), not now(): now() is when the statement began, and one that
 * waited for the row's lock behind others would reserve a time already past, letting sends bunch up.
 */
const RESERVE_SEND_TIME = new PreparedStatement('reserve-send-time', `UPDATE webhooks
          SET send_gate_at = greatest(coalesce(send_gate_at + make_interval(secs => ?::float8 / rate_limit), clock_timestamp()), clock_timestamp())
        WHERE id = ? AND rate_limit IS NOT NULL AND rate_limit > 0
          AND greatest(coalesce(send_gate_at + make_interval(secs => ?::float8 / rate_limit), clock_timestamp()), clock_timestamp()) <= clock_timestamp() + make_interval(secs => ?::float8 / 1000)
        RETURNING (extract(epoch FROM send_gate_at) * 1000)::float8 AS slot_ms, (extract(epoch FROM send_gate_at - clock_timestamp()) * 1000)::float8 AS wait_ms`);

/**
 * Sends to a rate-limited webhook are spaced this many times 1/rate apart: a 10% margin for the jitter between
 * the reserved time and the request reaching the receiver (a busy worker's event loop, the database's answer). At
 * exactly 1/rate a 10/s webhook's busiest second holds 11 requests as a rule (the window's edges), and ~100 ms of
 * jitter makes it 12 (seen on the loaded 2-core test machine); with the margin it takes ~200 ms. The price: a
 * backlog drains at ~9.1/s for a limit of 10/s.
 */
export const PACING_INTERVAL_FACTOR = 1.1;

/** A slot closer than this is not waited for: the attempt goes out at once. */
export const PACING_TOLERANCE_MS = 5;

/**
 * An attempt, written before its request goes out, numbered within its delivery. The traced form also records the
 * trace id; with tracing off the statement is the same as before tracing existed.
 */
const startAttempt = (traced: boolean) => `INSERT INTO delivery_attempts (delivery_id, number, idempotency_key, step_key, trigger, attempted_at, request_url, request_headers, request_body${traced ? ', trace_id' : ''})
  SELECT ?, coalesce(max(number), 0) + 1, ?, ?, ?, ?, ?, ?::jsonb, ?${traced ? ', ?' : ''} FROM delivery_attempts WHERE delivery_id = ?
  RETURNING id`;
const START_ATTEMPT = new PreparedStatement('start-attempt', startAttempt(false));
const START_TRACED_ATTEMPT = new PreparedStatement('start-traced-attempt', startAttempt(true));

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
      webhook: r.webhook && { ...r.webhook, send_gate_at: date(r.webhook.send_gate_at), deleted_at: date(r.webhook.deleted_at), last_failure_at: date(r.webhook.last_failure_at), last_success_at: date(r.webhook.last_success_at) },
      event: r.event && { id: r.event.id, type: r.event.type, timestamp: new Date(r.event.timestamp_ms ?? NaN), data: r.event.data },
      lastTry: r.last_try && { ...r.last_try, attempted_at: new Date(r.last_try.attempted_at) },
    };
  },

  /**
   * Reserves a send slot for a delivery of a rate-limited webhook (RESERVE_SLOT). `slotAt` is the slot (epoch ms,
   * PostgreSQL's clock), `waitMs` how far ahead of now it is; `paced`: the slot is more than PACING_TOLERANCE_MS
   * ahead (it is then recorded on the delivery as its next attempt if the delivery is open). Null when the webhook
   * has no rate limit.
   */
  async reserveSlot(db: Db, webhookId: string, deliveryId: string): Promise<{ slotAt: number; waitMs: number; paced: boolean } | null> {
    const rows = await RESERVE_SLOT.run<{ slot_ms: number; wait_ms: number; paced: boolean }>(db, [PACING_INTERVAL_FACTOR, webhookId, PACING_INTERVAL_FACTOR, deliveryId, PACING_TOLERANCE_MS, PACING_TOLERANCE_MS]);
    if (!rows.length) return null;
    const r = rows[0];
    return { slotAt: Math.round(Number(r.slot_ms)), waitMs: Math.max(0, Math.ceil(Number(r.wait_ms))), paced: r.paced };
  },

  /**
   * The send gate (RESERVE_SEND_TIME): when this request may go out (epoch ms, PostgreSQL's clock) and how long from
   * now that is. Null when that time would be more than `maxWaitMs` ahead (nothing was taken) or the webhook has no
   * rate limit (any more).
   */
  async reserveSendTime(db: Db, webhookId: string, maxWaitMs: number): Promise<{ slotAt: number; waitMs: number } | null> {
    const rows = await RESERVE_SEND_TIME.run<{ slot_ms: number; wait_ms: number }>(db, [PACING_INTERVAL_FACTOR, webhookId, PACING_INTERVAL_FACTOR, maxWaitMs]);
    if (!rows.length) return null;
    return { slotAt: Math.round(Number(rows[0].slot_ms)), waitMs: Math.max(0, Math.ceil(Number(rows[0].wait_ms))) };
  },

  /** Removes an attempt written but never sent (its send time was refused at the gate). */
  async discardUnsent(db: Db, id: string): Promise<void> {
    await db('delivery_attempts').where({ id }).whereNull('succeeded').del();
  },

  /** Writes an attempt before its request goes out, numbered within its delivery. */
  async start(db: Db, row: StartedAttemptRow): Promise<string> {
    const values = [row.delivery_id, row.idempotency_key, row.step_key, row.trigger, row.attempted_at, row.request_url, JSON.stringify(row.request_headers), row.request_body];
    const rows = row.trace_id
      ? await START_TRACED_ATTEMPT.run<{ id: string }>(db, [...values, row.trace_id, row.delivery_id])
      : await START_ATTEMPT.run<{ id: string }>(db, [...values, row.delivery_id]);
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
         UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, stalled_reason = NULL, stalled_since = NULL, completed_at = now(), updated_at = now(),
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
   * Null when the try had already been closed: a newer try of the step found it unrecorded (this one was given up,
   * waiting on a database that answered late), logged it as interrupted and sent again; a late record changes nothing.
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
  ): Promise<RecordedOutcome | null> {
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
    return rows[0] ?? null;
  },

  async deleteForDeliveries(db: Db, deliveryIds: string[]): Promise<number> {
    return deliveryIds.length ? db('delivery_attempts').whereIn('delivery_id', deliveryIds).del() : 0;
  },
};

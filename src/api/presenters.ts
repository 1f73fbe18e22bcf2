import type { DeliveryRow } from '../db/stores/deliveries';
import type { DeliveryAttemptRow } from '../db/stores/delivery-attempts';
import type { WebhookRow } from '../db/stores/webhooks';
import type { WebhookHealth } from '../workflows/messages';
import type { RecoveryView } from '../services/recoveries';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function presentWebhook(row: WebhookRow, extra: { secret?: string; health?: WebhookHealth | null } = {}) {
  return {
    id: row.id,
    destination: row.destination,
    url: row.display_url,
    events: row.events,
    vaultIds: row.vault_ids,
    description: row.description,
    slackChannel: row.slack_channel,
    status: row.status,
    statusReason: row.status_reason,
    standardWebhooks: row.standard_webhooks,
    rateLimit: row.rate_limit,
    ...(extra.health !== undefined
      ? { health: extra.health && { consecutiveFailureDays: extra.health.consecutiveFailureDays, failingSince: extra.health.failingSince, lastError: extra.health.lastError } }
      : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(extra.secret ? { secret: extra.secret } : {}),
  };
}

export function presentDelivery(row: DeliveryRow, temporalUrl: string) {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    event: row.event_type,
    status: row.status,
    attemptCount: row.attempt_count,
    lastResponseStatus: row.last_response_status,
    lastError: row.last_error,
    nextAttemptAt: iso(row.next_attempt_at),
    pacedUntil: row.paced_until && (row.status === 'pending' || row.status === 'retrying') ? row.paced_until.toISOString() : null,
    stalled: row.stalled_reason && (row.status === 'pending' || row.status === 'retrying') ? { reason: row.stalled_reason, since: iso(row.stalled_since) } : null,
    createdAt: row.created_at.toISOString(),
    completedAt: iso(row.completed_at),
    temporalUrl,
  };
}

export function presentAttempt(a: DeliveryAttemptRow) {
  return {
    number: a.number,
    trigger: a.trigger,
    attemptedAt: a.attempted_at.toISOString(),
    request: { url: a.request_url, headers: a.request_headers, body: a.request_body },
    response: { status: a.response_status, body: a.response_body },
    durationMs: a.duration_ms,
    error: a.error,
    succeeded: a.succeeded,
    retryAfterMs: a.retry_after_ms,
    traceId: a.trace_id ?? null,
  };
}

/** The API's view of a recovery. */
export function presentRecovery({ row, temporalUrl }: RecoveryView) {
  return {
    recoveryId: row.id,
    since: row.since.toISOString(),
    statuses: row.statuses,
    total: Math.max(row.total, row.started),
    started: row.started,
    status: row.status,
    temporalUrl,
  };
}

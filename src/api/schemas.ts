import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { EVENT_TYPES, eventDataSchemas, isDeliverableYear, SUBSCRIBABLE_EVENT_TYPES } from '../domain/events';
import { DELIVERY_STATUSES } from '../db/stores/deliveries';
import { parseIsoTime } from '../domain/iso-time';
import { STALL_REASONS } from '../domain/stalls';

extendZodWithOpenApi(z);

/** One schema per body: it validates requests and generates the OpenAPI document. */
export const MAX_URL_LENGTH = 2048;

const url = z
  .string()
  .max(MAX_URL_LENGTH)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL')
  .openapi({ example: 'https://example.com/hooks/cloudkeep', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' });

const subscribableEvent = z.enum(SUBSCRIBABLE_EVENT_TYPES);
const events = z.array(subscribableEvent).min(1, 'must name at least one event').max(SUBSCRIBABLE_EVENT_TYPES.length);
const vaultIds = z.array(z.string().min(1).max(128)).min(1).max(100).nullable();
const description = z.string().max(500);
/** A given secret must be long enough to sign with: at least 24 characters, at most 128. */
const secret = z.string().min(24).max(128).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const standardWebhooks = z
  .boolean()
  .describe('Also sign with the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature (generic webhooks only)');
/** Deliveries per second; beyond it deliveries wait for their turn (pings are exempt). */
export const MIN_RATE_LIMIT = 0.1;
export const MAX_RATE_LIMIT = 1000;
const rateLimit = z
  .number()
  .min(MIN_RATE_LIMIT, `must be at least ${MIN_RATE_LIMIT} deliveries per second`)
  .max(MAX_RATE_LIMIT, `must be at most ${MAX_RATE_LIMIT} deliveries per second`)
  .describe(
    'Deliveries per second to this webhook (0.1–1000, fractions allowed); deliveries beyond it wait their turn (shown in the Delivery Log as paced). Pings are not paced.',
  )
  .openapi({ example: 10 });

export const createWebhookBody = z
  .strictObject({
    url,
    destination: z.enum(['generic', 'slack', 'discord']).default('generic'),
    events,
    description: description.optional(),
    vaultIds: vaultIds.optional(),
    secret: secret.optional(),
    standardWebhooks: standardWebhooks.optional(),
    rateLimit: rateLimit.optional(),
  })
  .openapi('CreateWebhook');

export const updateWebhookBody = z
  .strictObject({
    url: url.optional(),
    events: events.optional(),
    description: description.nullable().optional(),
    vaultIds: vaultIds.optional(),
    standardWebhooks: standardWebhooks.optional(),
    rateLimit: rateLimit.nullable().optional().describe('Deliveries per second (0.1–1000); null removes the limit'),
  })
  .refine((b) => Object.keys(b).length > 0, 'must change at least one field')
  .openapi('UpdateWebhook', { minProperties: 1 });

export const rotateSecretBody = z.strictObject({ secret: secret.optional() }).openapi('RotateSecret');

export const webhookHealth = z
  .object({ consecutiveFailureDays: z.number().int(), failingSince: z.string().nullable(), lastError: z.string().nullable() })
  .openapi('WebhookHealth');

export const webhook = z
  .object({
    id: z.string().openapi({ example: 'wh_3kT9…' }),
    destination: z.enum(['generic', 'slack', 'discord']),
    url: z.string().describe('The target; Slack and Discord URLs are shown redacted'),
    events: z.array(subscribableEvent),
    vaultIds: z.array(z.string()).nullable(),
    description: z.string().nullable(),
    slackChannel: z.string().nullable(),
    status: z.enum(['pending', 'active', 'inactive', 'disabled']),
    statusReason: z.string().nullable(),
    standardWebhooks: z.boolean().describe('Deliveries also carry the Standard Webhooks headers'),
    rateLimit: z.number().nullable().describe('Deliveries per second; null: unlimited'),
    health: webhookHealth.nullable().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    secret: z.string().optional().describe('Returned only by create and rotate-secret'),
  })
  .openapi('Webhook');

const recoverableStatus = z.enum(['failed', 'skipped']);
const recoverableStatuses = z.array(recoverableStatus);
const isoTime = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-20T00:00:00Z' });

export const recoverable = z
  .object({ count: z.number().int(), since: z.string().describe('Counted from here: when the failing streak began') })
  .openapi('Recoverable');

export const enabledWebhook = webhook
  .extend({ recoverable: recoverable.describe('Deliveries that failed or were skipped since the streak that disabled the webhook began') })
  .openapi('EnabledWebhook');

export const recoverBody = z
  .strictObject({
    since: isoTime.describe('Re-deliver deliveries created at or after this time'),
    statuses: recoverableStatuses.min(1).max(2).optional().describe('Which deliveries; both by default'),
  })
  .openapi('Recover');

export const recoverableQuery = z.strictObject({
  since: isoTime.describe('Count deliveries created at or after this time (within the Delivery Log retention)'),
  statuses: z
    .string()
    .max(20)
    .regex(/^(failed|skipped)(,(failed|skipped))?$/, 'must be failed, skipped, or both separated by a comma')
    .optional()
    .describe('failed, skipped, or both separated by a comma; both by default'),
});

export const recoverableCount = z
  .object({ count: z.number().int(), since: z.string(), statuses: recoverableStatuses })
  .openapi('RecoverableCount');

export const recovery = z
  .object({
    recoveryId: z.string(),
    since: z.string(),
    statuses: recoverableStatuses,
    total: z.number().int().describe('Deliveries the recovery re-delivers'),
    started: z.number().int().describe('Re-delivered so far'),
    status: z.enum(['running', 'completed']),
    temporalUrl: z.string().describe("The recover workflow's page in the Temporal Web UI"),
  })
  .openapi('Recovery');

export const recoveryStarted = recovery.omit({ started: true }).openapi('RecoveryStarted');

/** A path id, described for the resource it names. */
const pathId = (description: string) => z.string().min(1).max(128).describe(description);

export const webhookIdParam = z.strictObject({ id: pathId("The webhook's id (wh_…)") });
export const deliveryIdParam = z.strictObject({ id: pathId("The delivery's id (dlv_…)") });
export const apiKeyIdParam = z.strictObject({ id: pathId("The key's id (key_…)") });
export const recoveryParams = z.strictObject({ id: pathId("The webhook's id (wh_…)"), recoveryId: pathId("The recovery's id (rcv_…), as starting it returned") });

export const webhookList = z.object({ data: z.array(webhook), nextCursor: z.string().nullable() }).openapi('WebhookList');

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25).describe('Items per page (1–100)'),
  cursor: z.string().max(200).optional().describe("The previous page's nextCursor; left out for the first page"),
});

export const deliveryListQuery = listQuery
  .extend({
    status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this status'),
    event: z.enum(EVENT_TYPES).optional().describe('Only deliveries of this event type'),
  })
  .strict();

const ingestFields = {
  id: z.string().regex(/^evt_[A-Za-z0-9_-]{1,100}$/, 'must look like evt_…').optional(),
  // PostgreSQL stores years past 9999 and before 1 (as BC), but renders them in forms JavaScript cannot read back.
  timestamp: z.iso
    .datetime({ offset: true })
    .refine((v) => isDeliverableYear(parseIsoTime(v)), 'must fall within the years 0001 to 9999 once converted to UTC')
    .optional()
    .openapi({ description: 'When the change happened (ISO 8601 with an offset), within the years 0001–9999 once in UTC; defaults to when it is received' }),
};

/** What the route parses first; `data` is then checked against its event type's schema (EventService.validateData). */
export const ingestEventBody = z.strictObject({ ...ingestFields, event: z.enum(SUBSCRIBABLE_EVENT_TYPES), data: z.record(z.string(), z.unknown()) });

/** The same rules as the document shows them: one body per event type, its `data` the schema ingest validates. */
export const ingestEventDocumented = z
  .discriminatedUnion(
    'event',
    SUBSCRIBABLE_EVENT_TYPES.map((type) => z.strictObject({ ...ingestFields, event: z.literal(type), data: eventDataSchemas[type] })) as unknown as [
      z.ZodObject<{ event: z.ZodLiteral<string> }>,
      ...z.ZodObject<{ event: z.ZodLiteral<string> }>[],
    ],
  )
  .openapi('IngestEvent');

export const ingestEventResponse = z.object({ id: z.string(), deliveries: z.number().int(), duplicate: z.boolean() }).openapi('IngestEventResult');

export const attempt = z
  .object({
    number: z.number().int(),
    trigger: z.enum(['scheduled', 'manual']),
    attemptedAt: z.string(),
    request: z.object({ url: z.string(), headers: z.record(z.string(), z.string()), body: z.string() }),
    response: z.object({ status: z.number().int().nullable(), body: z.string().nullable() }),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    succeeded: z.boolean(),
    retryAfterMs: z.number().int().nullable(),
    traceId: z
      .string()
      .nullable()
      .describe('The OpenTelemetry trace this attempt ran in (32 hex digits): the trace of its event, from ingest to this request. Null when tracing is off or the trace was not sampled'),
  })
  .openapi('DeliveryAttempt');

export const delivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    event: z.enum(EVENT_TYPES),
    status: z.enum(DELIVERY_STATUSES),
    attemptCount: z.number().int(),
    lastResponseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    pacedUntil: z
      .string()
      .nullable()
      .describe("Set while the delivery waits for its turn under the webhook's rate limit: when it goes out (equal to nextAttemptAt)"),
    stalled: z
      .object({
        reason: z.enum(STALL_REASONS),
        since: z.string().nullable(),
      })
      .nullable()
      .describe(
        'Set while the delivery waits on our own infrastructure, not on its schedule: its attempt keeps failing on PostgreSQL (database_unavailable, database_error) or Temporal (temporal_unavailable), or the outbox cannot start it (temporal_unavailable). It is retried until that is back; `since` is when the wait began. Null otherwise.',
      )
      .openapi('DeliveryStall'),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    temporalUrl: z.string().describe("The delivery workflow's page in the Temporal Web UI"),
  })
  .openapi('Delivery');

export const deliveryDetail = delivery.extend({ payload: z.unknown(), attempts: z.array(attempt) }).openapi('DeliveryDetail');
export const deliveryList = z.object({ data: z.array(delivery), nextCursor: z.string().nullable() }).openapi('DeliveryList');
export const accepted = z.object({ deliveryId: z.string(), status: z.string() }).openapi('Accepted');

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })),
  })
  .openapi('Problem');

/** A 409 response for a route's OpenAPI entry. */
export const conflict = (description: string) => ({ description, schema: problem, contentType: 'application/problem+json' });

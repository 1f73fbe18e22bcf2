import type { Knex } from 'knex';
import { eventsStore } from '../db/stores/events';
import { isDeliverable, webhooksStore } from '../db/stores/webhooks';
import { EventType, eventDataSchemas, findSecretValueField, isDeliverableYear, vaultIdOf } from '../domain/events';
import { newId } from '../domain/ids';
import { parseIsoTime } from '../domain/iso-time';
import { UnprocessableError, ValidationError } from '../errors';
import { parseOrThrow } from '../validation';
import type { Tracing } from '../tracing';

export interface IngestInput {
  id?: string;
  event: EventType;
  timestamp?: string;
  data: Record<string, unknown>;
}

export interface IngestResult {
  id: string;
  deliveries: number;
  duplicate: boolean;
}

/**
 * Stores an event and one delivery per subscribed webhook in one statement, and wakes the workers: they start the
 * delivery workflows (the outbox, src/dispatch/outbox-dispatcher.ts). Ingest never waits on Temporal.
 */
export class EventService {
  /** `tracing`: when on, the event keeps its ingest span's context for the deliveries' spans (one trace per event). */
  constructor(
    private readonly db: Knex,
    private readonly tracing?: Tracing,
  ) {}

  /** Validates `data` for its event type; a secret value anywhere is refused outright (the spec's promise). */
  validateData(event: EventType, data: Record<string, unknown>): Record<string, unknown> {
    const valueField = findSecretValueField(data);
    if (valueField) throw new UnprocessableError(valueField, 'webhook payloads never carry secret values; send metadata only');
    parseOrThrow(eventDataSchemas[event], data, 'data');
    return data;
  }

  async ingest(organizationId: string, input: IngestInput): Promise<IngestResult> {
    const data = this.validateData(input.event, input.data);
    const id = input.id ?? newId('evt');
    const timestamp = input.timestamp ? parseIsoTime(input.timestamp) : new Date();
    // The route's schema refuses these already; kept here so no other caller can store what the worker cannot send.
    if (!isDeliverableYear(timestamp)) throw new ValidationError([{ field: 'body.timestamp', message: 'must fall within the years 0001 to 9999 once converted to UTC' }]);
    const vaultId = vaultIdOf(data);

    // One query for the subscribers, one statement for the event and its deliveries (atomic on its own).
    // Inactive and disabled webhooks keep the event as a skipped delivery (no workflow) that a recovery can send.
    const subscribers = await webhooksStore.findSubscribers(this.db, organizationId, input.event, vaultId);
    const rows = subscribers.map((w) => ({
      id: newId('dlv'),
      webhook_id: w.id,
      event_type: input.event,
      ...(isDeliverable(w) ? { status: 'pending', last_error: null } : { status: 'skipped', last_error: `Skipped: the webhook was ${w.status}` }),
    }));
    const deliveries = rows.filter((r) => r.status === 'pending');
    const traceparent = this.tracing?.currentTraceparent();
    const created = await eventsStore.insertWithDeliveries(this.db, { organization_id: organizationId, id, type: input.event, timestamp, data, delivery_count: deliveries.length, traceparent }, rows);
    const row = created ? { delivery_count: deliveries.length, dispatched_at: null, type: input.event } : (await eventsStore.get(this.db, organizationId, id))!;

    // A duplicate id fans out once: the stored event is the outbox's, whoever sent it.
    // The insert woke the workers (the outbox); an event with nothing to send is done.
    if (created && row.delivery_count === 0) await eventsStore.markDispatched(this.db, organizationId, id);
    this.tracing?.setAttributes({ 'cloudkeep.event.id': id, 'cloudkeep.event.type': input.event, 'cloudkeep.event.deliveries': row.delivery_count, 'cloudkeep.event.duplicate': !created });
    return { id, deliveries: row.delivery_count, duplicate: !created };
  }
}

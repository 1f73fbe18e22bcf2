import type { EventPayload, EventType } from './events';
import type { EventRow } from '../db/stores/events';

/** ISO 8601 in UTC, without milliseconds when there are none (the spec's `2025-06-11T10:30:00Z`). */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

export function toEventPayload(event: Pick<EventRow, 'id' | 'type' | 'timestamp' | 'data'>): EventPayload {
  return { id: event.id, event: event.type as EventType, timestamp: formatTimestamp(event.timestamp), data: event.data };
}

/**
 * The payload as the Delivery Log shows it: like toEventPayload, but a stored time no request can carry (PostgreSQL's
 * ±infinity, read as a number) is shown as it is instead of failing the read. Its delivery fails as undeliverable.
 */
export function toLoggedEventPayload(event: Pick<EventRow, 'id' | 'type' | 'timestamp' | 'data'>): EventPayload {
  const t: unknown = event.timestamp;
  const readable = t instanceof Date && !Number.isNaN(t.getTime());
  return { id: event.id, event: event.type as EventType, timestamp: readable ? formatTimestamp(t) : String(t), data: event.data };
}

import { Router } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../route';
import { EVENT_DESCRIPTIONS, EVENT_TYPES, eventDataSchemas, SUBSCRIBABLE_EVENT_TYPES } from '../../domain/events';

export const eventTypeEntry = z
  .object({
    name: z.enum(EVENT_TYPES),
    description: z.string(),
    subscribable: z.boolean().describe('false for ping, which CloudKeep sends itself'),
    schema: z.record(z.string(), z.unknown()).describe('JSON Schema (draft 2020-12) of the data of this event, as ingest validates it'),
  })
  .openapi('EventType');

export const eventTypeList = z.object({ data: z.array(eventTypeEntry) }).openapi('EventTypeList');

/** The catalog, built once from the same zod schemas that validate ingest. */
export function eventCatalog() {
  return {
    data: EVENT_TYPES.map((name) => ({
      name,
      description: EVENT_DESCRIPTIONS[name],
      subscribable: (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(name),
      schema: z.toJSONSchema(eventDataSchemas[name]) as Record<string, unknown>,
    })),
  };
}

export function eventTypeRoutes(table: RouteTable): Router {
  const router = Router();
  const catalog = eventCatalog();
  table.add(router, {
    method: 'get', path: '/v1/event-types', access: 'public', tags: ['Events'],
    operationId: 'listEventTypes',
    summary: 'List event types',
    description: 'The event catalog: every event type, what it means, whether a webhook can subscribe to it, and the JSON Schema of its `data` as ingest validates it. Needs no key.',
    responses: { 200: { description: 'Every event type', schema: eventTypeList } },
    handler: async () => catalog,
  });
  return router;
}

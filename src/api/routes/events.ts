import { Router } from 'express';
import type { RouteTable } from '../route';
import { ingestEventBody, ingestEventDocumented, ingestEventResponse } from '../schemas';
import type { EventService } from '../../services/events';

export function eventRoutes(table: RouteTable, events: EventService): Router {
  const router = Router();
  table.add(router, {
    method: 'post',
    path: '/v1/events',
    access: 'service',
    summary: 'Ingest a vault event; it fans out to every subscribed webhook',
    tags: ['Events'],
    body: ingestEventBody,
    documentedBody: ingestEventDocumented,
    responses: { 202: { description: 'Stored and handed to Temporal', schema: ingestEventResponse } },
    handler: ({ body, principal }) => events.ingest(principal.organizationId, body),
  });
  return router;
}

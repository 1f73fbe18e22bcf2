import { Router } from 'express';
import type { RouteTable } from '../route';
import { specSecretCreatedData } from '../../destinations/sample-payloads';
import { ingestEventBody, ingestEventDocumented, ingestEventResponse } from '../schemas';
import type { EventService } from '../../services/events';

export function eventRoutes(table: RouteTable, events: EventService): Router {
  const router = Router();
  table.add(router, {
    method: 'post',
    path: '/v1/events',
    access: 'service',
    operationId: 'ingestEvent',
    summary: 'Ingest a vault event',
    description:
      'The vault service reports a change with the service token. The event is stored with one delivery per webhook subscribed to its type (and, with a vault filter, to its vault); ' +
      'deliveries start from an outbox, so the answer does not wait for them. A disabled or inactive webhook keeps its delivery as `skipped`, for a recovery to send later. ' +
      '`data` is checked against the event type\'s schema (see `listEventTypes`) and must never carry a secret\'s value (422). ' +
      'An `id` sent again is answered with `duplicate: true` and delivered only once.',
    tags: ['Events'],
    body: ingestEventBody,
    documentedBody: ingestEventDocumented,
    bodyExample: { event: 'secret.created', data: specSecretCreatedData },
    responses: { 202: { description: 'Stored and handed to Temporal', schema: ingestEventResponse } },
    handler: ({ body, principal }) => events.ingest(principal.organizationId, body),
  });
  return router;
}

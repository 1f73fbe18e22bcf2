import { Router } from 'express';
import type { RouteTable } from '../route';
import type { ApiTag } from '../openapi-info';
import { accepted, conflict, deliveryDetail, deliveryIdParam, deliveryList, deliveryListQuery, webhookIdParam } from '../schemas';
import { presentAttempt, presentDelivery } from '../presenters';
import { decodeCursor, page } from '../../services/cursor';
import type { DeliveryService } from '../../services/deliveries';

export function deliveryRoutes(table: RouteTable, deliveries: DeliveryService): Router {
  const router = Router();
  const tags: ApiTag[] = ['Delivery Log'];

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id/deliveries', access: 'admin', tags,
    operationId: 'listDeliveries',
    summary: "List a webhook's deliveries",
    description:
      "The webhook's Delivery Log, newest first, optionally only one status or event type: each delivery's status, attempt count, last response status and error, when the next attempt is due, and its Temporal UI link. " +
      'Pass `nextCursor` as `cursor` for the next page.',
    params: webhookIdParam,
    query: deliveryListQuery,
    responses: { 200: { description: 'A page of deliveries', schema: deliveryList } },
    handler: async ({ principal, params, query }) => {
      const rows = await deliveries.listForWebhook(principal.organizationId, params.id, { status: query.status, eventType: query.event }, query.limit + 1, decodeCursor(query.cursor));
      const { rows: kept, nextCursor } = page(rows, query.limit);
      return { data: kept.map((r) => presentDelivery(r, deliveries.temporalUrl(r.id))), nextCursor };
    },
  });

  table.add(router, {
    method: 'get', path: '/v1/deliveries/:id', access: 'admin', tags,
    operationId: 'getDelivery',
    summary: 'Read a delivery with its attempts',
    description: 'One delivery with the payload sent and every attempt: the request (URL, headers with the signature, body), the response status and body excerpt, duration, error and what triggered it.',
    params: deliveryIdParam,
    responses: { 200: { description: 'The delivery', schema: deliveryDetail } },
    handler: async ({ principal, params }) => {
      const { delivery, payload, attempts } = await deliveries.get(principal.organizationId, params.id);
      return { ...presentDelivery(delivery, deliveries.temporalUrl(delivery.id)), payload, attempts: attempts.map(presentAttempt) };
    },
  });

  table.add(router, {
    method: 'post', path: '/v1/deliveries/:id/redeliver', access: 'admin', tags,
    operationId: 'redeliverDelivery',
    summary: 'Redeliver now',
    description:
      'Sends the delivery again now, a signal to its delivery workflow: one waiting in back-off is attempted at once (a `manual` attempt) and keeps its schedule; ' +
      'one that finished or was skipped goes back to `pending` and gets a new run, with the full retry schedule. A disabled webhook must be re-enabled first.',
    params: deliveryIdParam,
    responses: { 202: { description: 'Redelivery requested', schema: accepted }, 409: conflict('The webhook is disabled: re-enable it first') },
    handler: async ({ principal, params }) => {
      const row = await deliveries.redeliver(principal.organizationId, params.id, principal.keyId);
      return { deliveryId: row.id, status: row.status };
    },
  });
  return router;
}

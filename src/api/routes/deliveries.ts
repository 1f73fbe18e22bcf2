import { Router } from 'express';
import type { RouteTable } from '../route';
import { accepted, conflict, deliveryDetail, deliveryList, deliveryListQuery, idParam } from '../schemas';
import { presentAttempt, presentDelivery } from '../presenters';
import { decodeCursor, page } from '../../services/cursor';
import type { DeliveryService } from '../../services/deliveries';

export function deliveryRoutes(table: RouteTable, deliveries: DeliveryService): Router {
  const router = Router();
  const tags = ['Delivery Log'];

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id/deliveries', access: 'admin', tags,
    summary: "A webhook's Delivery Log, newest first; filter by status and event",
    params: idParam,
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
    summary: 'One delivery with every attempt and its Temporal UI link',
    params: idParam,
    responses: { 200: { description: 'The delivery', schema: deliveryDetail } },
    handler: async ({ principal, params }) => {
      const { delivery, payload, attempts } = await deliveries.get(principal.organizationId, params.id);
      return { ...presentDelivery(delivery, deliveries.temporalUrl(delivery.id)), payload, attempts: attempts.map(presentAttempt) };
    },
  });

  table.add(router, {
    method: 'post', path: '/v1/deliveries/:id/redeliver', access: 'admin', tags,
    summary: 'Re-deliver now (a signal to the delivery workflow)',
    params: idParam,
    responses: { 202: { description: 'Redelivery requested', schema: accepted }, 409: conflict('The webhook is disabled: re-enable it first') },
    handler: async ({ principal, params }) => {
      const row = await deliveries.redeliver(principal.organizationId, params.id, principal.keyId);
      return { deliveryId: row.id, status: row.status };
    },
  });
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../route';
import { accepted, conflict, createWebhookBody, enabledWebhook, idParam, listQuery, rotateSecretBody, updateWebhookBody, webhook, webhookList } from '../schemas';
import { presentWebhook } from '../presenters';
import { decodeCursor, page } from '../../services/cursor';
import type { WebhookService } from '../../services/webhooks';

export function webhookRoutes(table: RouteTable, webhooks: WebhookService): Router {
  const router = Router();
  const tags = ['Webhooks'];

  table.add(router, {
    method: 'post', path: '/v1/webhooks', access: 'admin', tags,
    summary: 'Create a webhook; the secret is returned once and a ping is sent',
    body: createWebhookBody,
    responses: { 201: { description: 'Created (status pending until the ping answers)', schema: webhook } },
    handler: async ({ principal, body }) => {
      const { webhook: row, secret } = await webhooks.create(principal.organizationId, body);
      return presentWebhook(row, { secret });
    },
  });

  table.add(router, {
    method: 'get', path: '/v1/webhooks', access: 'admin', tags,
    summary: 'List webhooks, newest first (cursor pagination)',
    query: listQuery,
    responses: { 200: { description: 'A page of webhooks', schema: webhookList } },
    handler: async ({ principal, query }) => {
      const rows = await webhooks.list(principal.organizationId, query.limit + 1, decodeCursor(query.cursor));
      const { rows: kept, nextCursor } = page(rows, query.limit);
      return { data: kept.map((r) => presentWebhook(r)), nextCursor };
    },
  });

  table.add(router, {
    method: 'get', path: '/v1/webhooks/:id', access: 'admin', tags,
    summary: 'Read a webhook with its health',
    params: idParam,
    responses: { 200: { description: 'The webhook', schema: webhook } },
    handler: async ({ principal, params }) => {
      const row = await webhooks.get(principal.organizationId, params.id);
      return presentWebhook(row, { health: await webhooks.health(row.id) });
    },
  });

  table.add(router, {
    method: 'patch', path: '/v1/webhooks/:id', access: 'admin', tags,
    summary: 'Update url, events, description, vault filter or Standard Webhooks signing; a new URL is pinged',
    params: idParam,
    body: updateWebhookBody,
    responses: { 200: { description: 'The updated webhook', schema: webhook } },
    handler: async ({ principal, params, body }) => presentWebhook(await webhooks.update(principal.organizationId, params.id, body)),
  });

  table.add(router, {
    method: 'delete', path: '/v1/webhooks/:id', access: 'admin', tags,
    summary: 'Delete a webhook and stop its pending deliveries',
    params: idParam,
    responses: { 204: { description: 'Deleted' } },
    handler: async ({ principal, params }) => webhooks.delete(principal.organizationId, params.id),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/test', access: 'admin', tags,
    summary: 'The Test button: send a ping delivery',
    params: idParam,
    responses: { 202: { description: 'Ping queued', schema: accepted }, 409: conflict('The webhook is disabled: re-enable it first') },
    handler: async ({ principal, params }) => ({ deliveryId: await webhooks.test(principal.organizationId, params.id), status: 'pending' }),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/enable', access: 'admin', tags,
    summary: 'Re-enable a disabled webhook (sends a ping)',
    params: idParam,
    responses: { 200: { description: 'Re-enabled, pending its ping; with how many deliveries could be recovered', schema: enabledWebhook }, 409: conflict('The webhook is not disabled') },
    handler: async ({ principal, params }) => {
      const { webhook: row, recoverable } = await webhooks.enable(principal.organizationId, params.id);
      return { ...presentWebhook(row), recoverable };
    },
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/rotate-secret', access: 'admin', tags,
    summary: 'Replace the signing secret; the new one is returned once and signs the next attempt',
    params: idParam,
    body: rotateSecretBody,
    // No body (or `{}`) generates the new secret; `{"secret": …}` sets a given one.
    bodyOptional: true,
    responses: { 200: { description: 'The webhook with its new secret', schema: webhook } },
    handler: async ({ principal, params, body }) => {
      const { webhook: row, secret } = await webhooks.rotateSecret(principal.organizationId, params.id, body.secret);
      return presentWebhook(row, { secret });
    },
  });
  return router;
}

export type WebhookDto = z.infer<typeof webhook>;

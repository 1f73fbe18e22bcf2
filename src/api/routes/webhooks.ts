import { Router } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../route';
import type { ApiTag } from '../openapi-info';
import { accepted, conflict, createWebhookBody, enabledWebhook, listQuery, rotateSecretBody, updateWebhookBody, webhook, webhookIdParam, webhookList } from '../schemas';
import { presentWebhook } from '../presenters';
import { decodeCursor, page } from '../../services/cursor';
import type { WebhookService } from '../../services/webhooks';

export function webhookRoutes(table: RouteTable, webhooks: WebhookService): Router {
  const router = Router();
  const tags: ApiTag[] = ['Webhooks'];
  const params = webhookIdParam;

  table.add(router, {
    method: 'post', path: '/v1/webhooks', access: 'admin', tags,
    operationId: 'createWebhook',
    summary: 'Create a webhook',
    description:
      'Creates a webhook for the events named. The signing secret (generated unless given) is returned in this response only: store it to verify `X-CloudKeep-Signature-256`. ' +
      'A ping delivery is sent at once; the webhook is `pending` until it answers, then `active` (a 2xx) or `inactive`. ' +
      'Slack and Discord webhooks take the incoming-webhook URL of their channel and are not signed.',
    body: createWebhookBody,
    bodyExample: { url: 'https://example.com/hooks/cloudkeep', events: ['secret.created', 'vault.deleted'], description: 'Production vault alerts', rateLimit: 10 },
    responses: { 201: { description: 'Created (status pending until the ping answers)', schema: webhook } },
    handler: async ({ principal, body }) => {
      const { webhook: row, secret } = await webhooks.create(principal.organizationId, body);
      return presentWebhook(row, { secret });
    },
  });

  table.add(router, {
    method: 'get', path: '/v1/webhooks', access: 'admin', tags,
    operationId: 'listWebhooks',
    summary: 'List webhooks',
    description: "The organization's webhooks, newest first, a page at a time: pass the response's `nextCursor` as `cursor` for the next page (null on the last).",
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
    operationId: 'getWebhook',
    summary: 'Read a webhook',
    description: 'One webhook with its health: for how many consecutive days its deliveries have failed, since when, and the last error. A webhook failing 3 days in a row is disabled and its owner emailed.',
    params,
    responses: { 200: { description: 'The webhook', schema: webhook } },
    handler: async ({ principal, params }) => {
      const row = await webhooks.get(principal.organizationId, params.id);
      return presentWebhook(row, { health: await webhooks.health(row.id) });
    },
  });

  table.add(router, {
    method: 'patch', path: '/v1/webhooks/:id', access: 'admin', tags,
    operationId: 'updateWebhook',
    summary: 'Update a webhook',
    description:
      'Changes any of url, events, description, vault filter, Standard Webhooks signing and rate limit (at least one); fields left out keep their value. ' +
      'A new URL is pinged and the webhook is `pending` until it answers; `rateLimit: null` removes the limit.',
    params,
    body: updateWebhookBody,
    bodyExample: { events: ['secret.created', 'secret.updated', 'secret.deleted'], description: 'Every change to a secret' },
    responses: { 200: { description: 'The updated webhook', schema: webhook } },
    handler: async ({ principal, params, body }) => presentWebhook(await webhooks.update(principal.organizationId, params.id, body)),
  });

  table.add(router, {
    method: 'delete', path: '/v1/webhooks/:id', access: 'admin', tags,
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook',
    description: 'Deletes the webhook and stops its deliveries still pending or retrying: nothing more is sent to its URL.',
    params,
    responses: { 204: { description: 'Deleted' } },
    handler: async ({ principal, params }) => webhooks.delete(principal.organizationId, params.id),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/test', access: 'admin', tags,
    operationId: 'testWebhook',
    summary: 'Send a test ping',
    description: "The settings page's Test button: sends a `ping` delivery now, ahead of queued deliveries. Follow it in the Delivery Log by the returned `deliveryId`.",
    params,
    responses: { 202: { description: 'Ping queued', schema: accepted }, 409: conflict('The webhook is disabled: re-enable it first') },
    handler: async ({ principal, params }) => ({ deliveryId: await webhooks.test(principal.organizationId, params.id), status: 'pending' }),
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/enable', access: 'admin', tags,
    operationId: 'enableWebhook',
    summary: 'Re-enable a disabled webhook',
    description:
      'Re-enables a webhook that was disabled after failing 3 days in a row: it is `pending` until the ping sent now answers. ' +
      'The response counts the deliveries that failed or were skipped since the failing streak began, which `recoverDeliveries` can re-deliver.',
    params,
    responses: { 200: { description: 'Re-enabled, pending its ping; with how many deliveries could be recovered', schema: enabledWebhook }, 409: conflict('The webhook is not disabled') },
    handler: async ({ principal, params }) => {
      const { webhook: row, recoverable } = await webhooks.enable(principal.organizationId, params.id);
      return { ...presentWebhook(row), recoverable };
    },
  });

  table.add(router, {
    method: 'post', path: '/v1/webhooks/:id/rotate-secret', access: 'admin', tags,
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate the signing secret',
    description:
      'Replaces the signing secret: generated without a body (or with `{}`), or the one given. The new secret is returned in this response only and signs every attempt from the next one on, retries of earlier deliveries included.',
    params,
    body: rotateSecretBody,
    bodyExample: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
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

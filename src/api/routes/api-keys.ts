import { Router } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../route';
import type { ApiTag } from '../openapi-info';
import { apiKeyIdParam, listQuery, problem } from '../schemas';
import { decodeCursor, page } from '../../services/cursor';
import { ApiKeyService, presentApiKey } from '../../services/api-keys';

export const apiKey = z
  .object({
    id: z.string().openapi({ example: 'key_2fG7…' }),
    kind: z.enum(['admin', 'service']).describe('admin: manages webhooks; service: ingests events'),
    name: z.string(),
    prefix: z.string().describe("The token's first characters, to recognise it (the token itself is shown only when created)"),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

export const apiKeyList = z.object({ data: z.array(apiKey), nextCursor: z.string().nullable() }).openapi('ApiKeyList');

export function apiKeyRoutes(table: RouteTable, apiKeys: ApiKeyService): Router {
  const router = Router();
  const tags: ApiTag[] = ['API keys'];

  table.add(router, {
    method: 'get', path: '/v1/api-keys', access: 'admin', tags,
    operationId: 'listApiKeys',
    summary: 'List API keys',
    description: "The organization's admin keys and event-ingest service tokens, revoked ones included, newest first. A token is never shown again after it is created: each key shows its first characters (`prefix`) to recognise it.",
    query: listQuery,
    responses: { 200: { description: 'A page of keys, revoked ones included', schema: apiKeyList } },
    handler: async ({ principal, query }) => {
      const rows = await apiKeys.list(principal.organizationId, query.limit + 1, decodeCursor(query.cursor));
      const { rows: kept, nextCursor } = page(rows, query.limit);
      return { data: kept.map(presentApiKey), nextCursor };
    },
  });

  table.add(router, {
    method: 'delete', path: '/v1/api-keys/:id', access: 'admin', tags,
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: "Revokes an admin key or service token: requests with it are refused (401) from the next one on. A key may revoke itself, but not the organization's last active admin key.",
    params: apiKeyIdParam,
    responses: {
      204: { description: 'Revoked (or already revoked)' },
      409: { description: "The organization's last active admin key", schema: problem, contentType: 'application/problem+json' },
    },
    handler: async ({ principal, params }) => {
      await apiKeys.revoke(principal.organizationId, params.id);
    },
  });
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { RouteTable } from '../route';
import { idParam, listQuery, problem } from '../schemas';
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
  const tags = ['API keys'];

  table.add(router, {
    method: 'get', path: '/v1/api-keys', access: 'admin', tags,
    summary: "The organization's admin keys and service tokens, newest first (never the token)",
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
    summary: 'Revoke a key or service token: it answers 401 from the next request (a key may revoke itself, but not the last admin key)',
    params: idParam,
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

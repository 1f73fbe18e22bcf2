import type { Request } from 'express';
import type { Knex } from 'knex';
import { apiKeysStore } from '../db/stores/api-keys';
import { hashToken, TokenKind } from '../domain/tokens';
import { ForbiddenError, UnauthorizedError } from '../errors';

/** Who may call a route: no one in particular, an admin key, the service token, or either if given. */
export type Access = 'public' | 'admin' | 'service' | 'optional';

export interface Principal {
  organizationId: string;
  keyId: string;
  kind: TokenKind;
}

function bearer(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('The Authorization header must be "Bearer <key>"');
  return match[1];
}

/** Resolves the caller's key and checks it is the kind the route takes (admin key vs ingest token). */
export function createAuthenticator(db: Knex) {
  return async (req: Request, access: Access): Promise<Principal> => {
    if (access === 'public') return null as unknown as Principal;
    const token = bearer(req);
    if (!token) {
      if (access === 'optional') return null as unknown as Principal;
      throw new UnauthorizedError();
    }
    const key = await apiKeysStore.findActiveByHash(db, hashToken(token));
    if (!key) throw new UnauthorizedError('The API key is not valid');
    const principal: Principal = { organizationId: key.organization_id, keyId: key.id, kind: key.kind };
    (req as Request & { principal?: Principal }).principal = principal;
    if (access === 'admin' && key.kind !== 'admin') throw new ForbiddenError('This route needs an admin API key; the event-ingest token cannot manage webhooks');
    if (access === 'service' && key.kind !== 'service') throw new ForbiddenError('Events are ingested with the service token, not an admin API key');
    return principal;
  };
}

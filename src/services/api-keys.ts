import type { Knex } from 'knex';
import { ApiKeyRow, apiKeysStore } from '../db/stores/api-keys';
import { ConflictError, NotFoundError } from '../errors';
import type { Keyed, KeysetPosition } from '../db/keyset';

/** Listing and revoking an organization's API keys and service tokens. Tokens and their hashes never leave here. */
export class ApiKeyService {
  constructor(private readonly db: Knex) {}

  list(organizationId: string, limit: number, after?: KeysetPosition): Promise<Keyed<ApiKeyRow>[]> {
    return apiKeysStore.listForOrganization(this.db, organizationId, limit, after);
  }

  /**
   * Revokes one of the organization's keys; the next request with it is a 401 (keys are looked up on
   * every request, nothing caches them). Revoking a revoked key changes nothing. The last active admin
   * key cannot be revoked over the API, so an organization cannot lock itself out (the CLI can).
   */
  async revoke(organizationId: string, id: string): Promise<ApiKeyRow> {
    return this.db.transaction(async (trx) => {
      const key = await apiKeysStore.get(trx, id);
      if (!key || key.organization_id !== organizationId) throw new NotFoundError('API key');
      if (key.revoked_at) return key;
      if (key.kind === 'admin') {
        const activeAdmins = await apiKeysStore.activeAdminIdsForUpdate(trx, organizationId);
        if (activeAdmins.length === 1 && activeAdmins[0] === id) {
          throw new ConflictError('id', "is the organization's last active admin key; create another one first (npm run cli -- key create)");
        }
      }
      return (await apiKeysStore.revoke(trx, id, new Date())) ?? key;
    });
  }
}

export function presentApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    prefix: row.token_prefix,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

import type { Db } from '../knex';
import { PreparedStatement } from '../prepared';
import type { TokenKind } from '../../domain/tokens';
import { Keyed, KeysetPosition, newestFirst } from '../keyset';

export interface ApiKeyRow {
  id: string;
  organization_id: string;
  kind: TokenKind;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

/** On every authenticated request. */
const FIND_ACTIVE_BY_HASH = new PreparedStatement('find-active-api-key', 'SELECT * FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL LIMIT 1');

export const apiKeysStore = {
  async insert(db: Db, row: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>): Promise<ApiKeyRow> {
    const [created] = await db<ApiKeyRow>('api_keys').insert(row).returning('*');
    return created;
  },
  /** An organization's keys, newest first, after the cursor (revoked ones included, for the record). */
  async listForOrganization(db: Db, organizationId: string, limit: number, after?: KeysetPosition): Promise<Keyed<ApiKeyRow>[]> {
    const q = db<ApiKeyRow>('api_keys').where({ organization_id: organizationId });
    return newestFirst(db, q, limit, after);
  },
  async get(db: Db, id: string): Promise<ApiKeyRow | undefined> {
    return db<ApiKeyRow>('api_keys').where({ id }).first();
  },
  /** Locks the organization's active admin keys (for the last-admin-key rule). */
  async activeAdminIdsForUpdate(db: Db, organizationId: string): Promise<string[]> {
    const rows = await db<ApiKeyRow>('api_keys').where({ organization_id: organizationId, kind: 'admin' }).whereNull('revoked_at').forUpdate().select('id');
    return rows.map((r) => r.id);
  },
  async revoke(db: Db, id: string, at: Date): Promise<ApiKeyRow | undefined> {
    const [row] = await db<ApiKeyRow>('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: at }).returning('*');
    return row;
  },
  async findActiveByHash(db: Db, tokenHash: string): Promise<ApiKeyRow | undefined> {
    const [row] = await FIND_ACTIVE_BY_HASH.run<ApiKeyRow>(db, [tokenHash]);
    return row;
  },
};

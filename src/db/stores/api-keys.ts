import type { Db } from '../knex';
import type { TokenKind } from '../../domain/tokens';

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

export const apiKeysStore = {
  async insert(db: Db, row: Omit<ApiKeyRow, 'created_at' | 'revoked_at'>): Promise<ApiKeyRow> {
    const [created] = await db<ApiKeyRow>('api_keys').insert(row).returning('*');
    return created;
  },
  async findActiveByHash(db: Db, tokenHash: string): Promise<ApiKeyRow | undefined> {
    return db<ApiKeyRow>('api_keys').where({ token_hash: tokenHash }).whereNull('revoked_at').first();
  },
};

import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { apiKeysStore } from '../db/stores/api-keys';
import { organizationsStore } from '../db/stores/organizations';
import { newId } from '../domain/ids';
import { generateToken, hashToken, TokenKind, tokenPrefix } from '../domain/tokens';

export interface DevCredentials {
  organizationId: string;
  apiKey: string;
  serviceToken: string;
}

/** Creates an organization; keys are stored hashed and returned in clear only here. */
export async function createOrganization(db: Knex, name: string, notificationEmail: string): Promise<string> {
  const org = await organizationsStore.insert(db, { id: newId('org'), name, notification_email: notificationEmail });
  return org.id;
}

export async function createKey(db: Knex, organizationId: string, kind: TokenKind, name: string): Promise<string> {
  const token = generateToken(kind);
  await apiKeysStore.insert(db, { id: newId('key'), organization_id: organizationId, kind, name, token_hash: hashToken(token), token_prefix: tokenPrefix(token) });
  return token;
}

/** First start in development: an organization, an admin key and an ingest token, written to a file. */
export async function ensureDevCredentials(db: Knex, dataDir: string): Promise<{ file: string; credentials: DevCredentials; created: boolean }> {
  const file = path.join(dataDir, 'dev-credentials.json');
  if (fs.existsSync(file)) {
    const credentials = JSON.parse(fs.readFileSync(file, 'utf8')) as DevCredentials;
    if (await organizationsStore.get(db, credentials.organizationId)) return { file, credentials, created: false };
  }
  const organizationId = await createOrganization(db, 'Development', 'owner@localhost');
  const credentials = {
    organizationId,
    apiKey: await createKey(db, organizationId, 'admin', 'development admin key'),
    serviceToken: await createKey(db, organizationId, 'service', 'development ingest token'),
  };
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  return { file, credentials, created: true };
}

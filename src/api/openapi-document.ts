import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { loadConfig } from '../config';
import { SecretBox } from '../domain/secret-box';
import { createLogger } from '../logger';
import { createApiApp, createServices } from '../runtime';

/** The address the offline document names as its server; the served one names the API's own PUBLIC_BASE_URL. */
export const OFFLINE_SERVER_URL = 'http://127.0.0.1:3000';

/** Stands in for a connection the document never needs: any use fails loudly instead of reaching out. */
function unused<T>(what: string): T {
  return new Proxy({}, {
    get: (_target, property) => {
      throw new Error(`Building the OpenAPI document touched ${what} (.${String(property)}): it must need neither a database nor Temporal`);
    },
  }) as T;
}

/**
 * The document `/openapi.json` serves, built by the same app construction but without PostgreSQL or Temporal
 * (no handler runs, and building the routes only stores what they will call). For `npm run lint:api` and the
 * typed client's generator.
 */
export function buildOpenApiDocument(serverUrl = OFFLINE_SERVER_URL) {
  const config = loadConfig({ NODE_ENV: 'development' });
  const db = unused<Knex>('the database');
  const temporal = unused<Client>('Temporal');
  const secretBox = new SecretBox(SecretBox.generateKey());
  const logger = createLogger('silent');
  const services = createServices({ db, temporal, config, secretBox, logger });
  return createApiApp({ db, temporal, config, secretBox, logger, services, publicBaseUrl: serverUrl }).openapi;
}

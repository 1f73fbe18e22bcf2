/**
 * A typed client for the CloudKeep Webhooks API: openapi-fetch over the types openapi-typescript generates from
 * the API's OpenAPI document (./schema.d.ts, `npm run client:generate`). Paths, parameters, bodies and responses
 * are checked by the compiler:
 *
 *   const cloudkeep = createCloudKeepClient({ baseUrl: 'http://127.0.0.1:3000', apiKey });
 *   const { data, error } = await cloudkeep.POST('/v1/webhooks', { body: { url, events: ['secret.created'] } });
 *
 * `data` is the 2xx body; `error` is the problem+json body of a 4xx/5xx (with `errors[].field`).
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };
/** The document's named schemas: `Schemas['Webhook']`, `Schemas['DeliveryDetail']`, `Schemas['Problem']`… */
export type Schemas = components['schemas'];
export type CloudKeepClient = Client<paths>;

export interface CloudKeepClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** An admin API key (`ck_admin_…`) for everything but ingest; the service token (`ck_svc_…`) for `POST /v1/events`. */
  apiKey: string;
  /** A fetch of your own (a proxy, instrumentation); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export function createCloudKeepClient({ baseUrl, apiKey, fetch }: CloudKeepClientOptions): CloudKeepClient {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` }, ...(fetch ? { fetch } : {}) });
}

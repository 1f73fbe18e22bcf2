import express, { NextFunction, Request, Response } from 'express';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import { httpRequests, registry } from '../metrics';
import { createAuthenticator, Principal } from './auth';
import { RouteTable } from './route';
import { problemMiddleware, sendProblem } from './problem';
import { createRateLimits, RateLimitSettings } from './rate-limits';
import { MethodNotAllowedError } from '../errors';
import { eventRoutes } from './routes/events';
import { eventTypeRoutes } from './routes/event-types';
import { apiKeyRoutes } from './routes/api-keys';
import type { ApiKeyService } from '../services/api-keys';
import { webhookRoutes } from './routes/webhooks';
import { deliveryRoutes } from './routes/deliveries';
import { recoveryRoutes } from './routes/recoveries';
import type { EventService } from '../services/events';
import type { WebhookService } from '../services/webhooks';
import type { DeliveryService } from '../services/deliveries';
import type { RecoveryService } from '../services/recoveries';
import type { Logger } from '../logger';
import type { Tracing } from '../tracing';

export interface AppDeps {
  db: Knex;
  temporal: Client;
  events: EventService;
  webhooks: WebhookService;
  deliveries: DeliveryService;
  recoveries: RecoveryService;
  apiKeys: ApiKeyService;
  logger: Logger;
  publicBaseUrl: string;
  rateLimits: RateLimitSettings;
  /** Extra routers (integrations) that register with the same route table. */
  extraRoutes?: (table: RouteTable) => express.Router[];
  /** True once a graceful shutdown began: /readyz turns 503 and connections are not kept alive. */
  isDraining?: () => boolean;
  /** OpenTelemetry, when on: a span per /v1/ request (an ingested event's trace starts there). */
  tracing?: Tracing;
}


export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const limits = createRateLimits(deps.rateLimits, { db: deps.db, logger: deps.logger });
  const table = new RouteTable({ authenticate: limits.guardAuthentication(createAuthenticator(deps.db)), admit: limits.admit });
  /** A request no route declares: 405 with `Allow` on a known path, 404 elsewhere. */
  const unrouted = (req: Request, res: Response, next: NextFunction) => {
    const allow = table.allowedMethods(req.path);
    if (allow.length > 0) return next(new MethodNotAllowedError(req.method, allow));
    sendProblem(res, 404, 'not-found', `No route for ${req.method} ${req.path}`);
  };

  if (deps.tracing) app.use(deps.tracing.requestSpans());
  app.use((_req, res, next) => {
    // Shutting down: answer this request, then let the client reconnect to another replica.
    if (deps.isDraining?.()) res.setHeader('Connection', 'close');
    next();
  });
  app.use((req, res, next) => {
    res.on('finish', () => httpRequests.inc({ method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode }));
    next();
  });
  // No CORS: the settings page is served from this origin, and API clients are servers. Express's routers would answer
  // OPTIONS themselves (200 text/plain with Allow, no key); it goes to the same 405/404 as any undeclared method.
  app.use((req, res, next) => (req.method === 'OPTIONS' ? unrouted(req, res, next) : next()));
  // Bodies are read per route, after authentication and the rate limit (route.ts), never here.

  app.use(eventRoutes(table, deps.events));
  app.use(eventTypeRoutes(table));
  app.use(webhookRoutes(table, deps.webhooks));
  app.use(deliveryRoutes(table, deps.deliveries));
  app.use(recoveryRoutes(table, deps.recoveries));
  app.use(apiKeyRoutes(table, deps.apiKeys));
  for (const router of deps.extraRoutes?.(table) ?? []) app.use(router);

  const openapi = table.document(deps.publicBaseUrl);
  app.get('/openapi.json', (_req, res) => void res.json(openapi));
  app.get('/docs/assets/docs-init.js', docsInit);
  app.use('/docs/assets', express.static(path.dirname(require.resolve('swagger-ui-dist/package.json'))));
  app.get('/docs', (_req, res) => void res.type('html').send(DOCS_PAGE));
  // Settings → Webhooks: a static page that drives the same API with the user's key.
  app.use('/settings', express.static(path.join(__dirname, '../web'), { index: 'settings.html' }));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    if (deps.isDraining?.()) return void res.status(503).json({ status: 'draining' });
    const checks = await Promise.allSettled([deps.db.raw('select 1'), deps.temporal.connection.workflowService.getSystemInfo({})]);
    const [db, temporal] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unavailable'));
    res.status(db === 'ok' && temporal === 'ok' ? 200 : 503).json({ database: db, temporal });
  });
  app.get('/metrics', async (_req, res) => void res.type(registry.contentType).send(await registry.metrics()));

  app.use(unrouted);
  app.use(problemMiddleware(deps.logger));
  return { app, routes: table.routes, openapi };
}

export type { Principal };

const DOCS_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>CloudKeep Webhooks API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><p style="font-family:sans-serif;margin:1em">Event catalog: <a href="/v1/event-types">GET /v1/event-types</a> (every event type with the JSON Schema of its data)</p><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script></body></html>`;

// Inline scripts would need a CSP exception; a tiny static initialiser keeps the page script-src 'self'.
export function docsInit(_req: Request, res: Response, _next: NextFunction) {
  res.type('js').send(`window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });`);
}

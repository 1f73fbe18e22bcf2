import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { parseOrThrow } from '../validation';
import { problem } from './schemas';
import type { Access, Principal } from './auth';
import { jsonBody } from './json-body';
import { API_INFO, API_TAGS, type ApiTag } from './openapi-info';
import { findUnstorableText } from './strict-json';

const NO_FIELDS = z.strictObject({});

interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express syntax (`/v1/webhooks/:id`); the OpenAPI path is derived from it. */
  path: string;
  access: Access;
  /** The stable name generated clients call the operation by (camelCase verb first: `listWebhooks`); renaming one breaks them. */
  operationId: string;
  /** A short title for the operation (the API reference's one line). */
  summary: string;
  /** What it does and what a caller should know, in full. */
  description: string;
  tags: ApiTag[];
  params?: P;
  query?: Q;
  body?: B;
  /** The body may be left out entirely (it is then read as `{}`). */
  bodyOptional?: boolean;
  /** What the OpenAPI document shows for the body when it is stricter than `body` alone (same rules, checked later). */
  documentedBody?: z.ZodType;
  /** A body the route accepts, shown in the document (every route with a body has one). */
  bodyExample?: unknown;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handler: (input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; principal: Principal; req: Request; res: Response }) => Promise<unknown>;
}

const UNSTORABLE_MESSAGES = {
  nul: 'must not contain NUL characters (\\u0000)',
  'lone-surrogate': 'must be Unicode text: an unpaired surrogate (\\ud800–\\udfff without its pair) is not a character',
} as const;

/** Text PostgreSQL cannot store as sent (NUL, unpaired surrogates): refused wherever it comes in, naming the field. */
export function refuseUnstorableText(value: unknown, location: string): void {
  const found = findUnstorableText(value, location);
  if (found) throw new ValidationError([{ field: found.field, message: UNSTORABLE_MESSAGES[found.problem] }]);
}


export interface RouteGuard {
  authenticate(req: Request, access: Access): Promise<Principal>;
  /** Throws (429) when the caller is over its rate limit. */
  admit(req: Request, access: Access, principal: Principal | null): Promise<void>;
}

const ERROR_RESPONSE = { description: 'Error', content: { 'application/problem+json': { schema: problem } } };

/**
 * A route is declared once: the same declaration validates its input, mounts its handler and
 * describes it in the OpenAPI document, so the document cannot drift from the routes.
 */
export class RouteTable {
  readonly registry = new OpenAPIRegistry();
  readonly routes: { method: string; path: string; access: Access }[] = [];
  private readonly patterns: { method: string; pattern: RegExp }[] = [];
  private readonly operationIds = new Set<string>();

  constructor(private readonly guard: RouteGuard) {
    this.registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'Admin API key (ck_admin_…)' });
    this.registry.registerComponent('securitySchemes', 'serviceToken', { type: 'http', scheme: 'bearer', description: 'Event-ingest service token (ck_svc_…)' });
  }

  add<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType>(router: Router, spec: RouteSpec<P, Q, B>, middleware: ((req: Request, res: Response, next: NextFunction) => void)[] = []): void {
    if (this.operationIds.has(spec.operationId)) throw new Error(`Two routes share the operationId ${spec.operationId}`);
    if (spec.body && spec.bodyExample === undefined) throw new Error(`${spec.method.toUpperCase()} ${spec.path} takes a body but shows no example of it`);
    this.operationIds.add(spec.operationId);
    this.routes.push({ method: spec.method, path: spec.path, access: spec.access });
    this.patterns.push({ method: spec.method.toUpperCase(), pattern: new RegExp(`^${spec.path.replace(/:\w+/g, '[^/]+')}/?$`) });
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] = r.schema ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : { description: r.description };
    }
    // Every route can refuse input, a credential or its rate limit; routes that read a body also refuse its size and type.
    for (const status of ['400', '401', '403', '404', '422', ...(spec.body ? ['413', '415'] : [])]) responses[status] ??= ERROR_RESPONSE;
    responses['429'] ??= { ...ERROR_RESPONSE, headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } } };
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      operationId: spec.operationId,
      summary: spec.summary,
      description: spec.description,
      tags: spec.tags,
      security: spec.access === 'admin' ? [{ apiKey: [] }] : spec.access === 'service' ? [{ serviceToken: [] }] : [],
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { required: !spec.bodyOptional, content: { 'application/json': { schema: spec.documentedBody ?? spec.body, example: spec.bodyExample } } } } : {}),
      },
      responses: responses as never,
    });

    // Authentication and the rate limit come before the body is read: a caller without a valid key gets 401, not 400 or 413.
    const admit = async (req: Request, res: Response, next: NextFunction) => {
      const principal = await this.guard.authenticate(req, spec.access);
      await this.guard.admit(req, spec.access, principal ?? null);
      res.locals.principal = principal;
      next();
    };
    router[spec.method](spec.path, admit, jsonBody, ...middleware, async (req: Request, res: Response) => {
      const principal = res.locals.principal as Principal;
      refuseUnstorableText(req.params, 'path');
      refuseUnstorableText(req.query, 'query');
      refuseUnstorableText(req.body, 'body');
      const params = spec.params ? parseOrThrow(spec.params, req.params, 'path') : {};
      // A route that declares no query or body takes none: unknown fields are refused, not ignored.
      const query = spec.query ? parseOrThrow(spec.query, req.query, 'query') : parseOrThrow(NO_FIELDS, req.query ?? {}, 'query');
      // A body left out is `{}` (for optional bodies; required fields then fail by name); a JSON `null` is a wrong body, not none.
      const body = spec.body ? parseOrThrow(spec.body, req.body === undefined ? {} : req.body, 'body') : req.body === undefined ? undefined : void parseOrThrow(NO_FIELDS, req.body, 'body');
      const result = await spec.handler({ params, query, body, principal, req, res } as never);
      if (!res.headersSent) {
        const [status] = Object.keys(spec.responses).map(Number).filter((s) => s < 300);
        if (result === undefined) res.status(status ?? 204).end();
        else res.status(status ?? 200).json(result);
      }
    });
  }

  /** The methods served on a path, for 405's `Allow` (empty when no route has that path). */
  allowedMethods(path: string): string[] {
    const methods = new Set(this.patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods];
  }

  document(serverUrl: string) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: API_INFO,
      servers: [{ url: serverUrl }],
      tags: API_TAGS.map((tag) => ({ ...tag })),
    });
  }
}

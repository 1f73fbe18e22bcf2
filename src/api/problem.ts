import type { NextFunction, Request, Response } from 'express';
import { AppError, MethodNotAllowedError, RateLimitedError } from '../errors';
import { isDatabaseUnavailable } from '../domain/stalls';
import type { Logger } from '../logger';

/** What a client is told to wait when the database is unavailable: a restart or failover takes seconds. */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
};

export function sendProblem(res: Response, status: number, type: string, detail: string, errors: { field: string; message: string }[] = []): void {
  res.status(status).type('application/problem+json').send(
    JSON.stringify({ type: `https://cloudkeep.io/problems/${type}`, title: TITLES[status] ?? 'Error', status, detail, errors }),
  );
}

/**
 * The one place errors become responses: AppErrors as they are, body-parser faults by field, a database that is not
 * answering as 503 with Retry-After (nothing was accepted: try again), the rest as 500 without details.
 */
export function problemMiddleware(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof RateLimitedError) res.set('Retry-After', String(err.retryAfterSeconds));
    if (err instanceof MethodNotAllowedError) res.set('Allow', err.allow.join(', '));
    if (err instanceof AppError) return sendProblem(res, err.status, err.type, err.message, err.errors);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'malformed-json', 'The body is not valid JSON', [{ field: 'body', message: 'is not valid JSON' }]);
    if (e.type === 'entity.too.large') return sendProblem(res, 413, 'too-large', 'The body is too large', [{ field: 'body', message: 'is larger than 256 KiB' }]);
    if (e.status && e.status >= 400 && e.status < 500) return sendProblem(res, e.status, 'bad-request', e.message ?? 'Bad request');
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err: (err as Error)?.message, path: req.path }, 'database unavailable: answered 503');
      res.set('Retry-After', String(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS));
      return sendProblem(res, 503, 'unavailable', 'The service cannot reach its database right now; try again shortly');
    }
    logger.error({ err: (err as Error)?.message, stack: (err as Error)?.stack, path: req.path }, 'unhandled error');
    sendProblem(res, 500, 'internal', 'Something went wrong on our side; it has been logged');
  };
}

import express, { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError, ValidationError } from '../errors';
import { decodeUtf8, JsonInputError, parseStrictJson } from './strict-json';

export const BODY_LIMIT_BYTES = 256 * 1024;

const readRaw = express.raw({ type: () => true, limit: BODY_LIMIT_BYTES });

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function checkMediaType(req: Request): void {
  const header = req.headers['content-type'];
  if (!header) throw new UnsupportedMediaTypeError('A body must be sent as application/json');
  const [type, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(`A body must be sent as application/json, not ${type.slice(0, 100) || 'an empty media type'}`);
  }
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new UnsupportedMediaTypeError('JSON bodies must be UTF-8');
}

/**
 * Reads a JSON body strictly (media type, UTF-8, duplicate keys, depth); mounted after authentication
 * so an unauthenticated request is never read. `req.body` is undefined when nothing was sent.
 */
export function jsonBody(req: Request, res: Response, next: NextFunction): void {
  req.body = undefined;
  if (!hasBody(req)) return next();
  try {
    checkMediaType(req);
  } catch (err) {
    return next(err);
  }
  readRaw(req, res, (err?: unknown) => {
    if (err) return next(err);
    const bytes = req.body as Buffer;
    req.body = undefined;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) return next();
    try {
      req.body = parseStrictJson(decodeUtf8(bytes));
      next();
    } catch (e) {
      if (e instanceof JsonInputError) return next(new ValidationError([{ field: e.field, message: e.message }]));
      if (e instanceof SyntaxError) return next(new ValidationError([{ field: 'body', message: 'is not valid JSON' }], 'The body is not valid JSON'));
      next(e);
    }
  });
}

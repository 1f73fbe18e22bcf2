/**
 * The one error base class: services throw these, and one middleware turns them into
 * application/problem+json (RFC 9457). `field` names the failing input.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[], message = 'The request is not valid') {
    super(400, 'validation', `${message}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
  }
}

/** Well-formed but refused by a business rule (e.g. an event carrying a secret value). */
export class UnprocessableError extends AppError {
  constructor(field: string, message: string) {
    super(422, 'unprocessable', `${field}: ${message}`, [{ field, message }]);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, 'not-found', `${what} not found`);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid API key is required in the Authorization header') {
    super(401, 'unauthorized', message, [{ field: 'Authorization', message }]);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message, [{ field: 'Authorization', message }]);
  }
}

export class ConflictError extends AppError {
  constructor(field: string, message: string) {
    super(409, 'conflict', `${field}: ${message}`, [{ field, message }]);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'unavailable', message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, 'unsupported-media-type', message, [{ field: 'Content-Type', message }]);
  }
}

/** 429; the problem response carries `Retry-After`. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    field = 'Authorization',
  ) {
    super(429, 'rate-limited', message, [{ field, message }]);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(
    method: string,
    readonly allow: string[],
  ) {
    super(405, 'method-not-allowed', `${method} is not supported here; use ${allow.join(', ')}`, [{ field: 'method', message: `must be one of ${allow.join(', ')}` }]);
  }
}

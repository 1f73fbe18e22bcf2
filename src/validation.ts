import type { z } from 'zod';
import { ValidationError } from './errors';

// Request validation shared by the API's routes and the services (ingest checks each event type's data after its envelope).

/** Zod issues as `{field, message}`, the field a dotted path within its part of the request. */
export function toFieldErrors(error: z.ZodError, location: string) {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => ({
      field: [location, ...issue.path, ...(key ? [key] : [])].map(String).join('.'),
      message: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
    }));
  }).flat();
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, location: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toFieldErrors(result.error, location));
  return result.data;
}

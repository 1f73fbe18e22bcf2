import pino from 'pino';
import type { Tracing } from './tracing';

export type Logger = pino.Logger;

/**
 * JSON logs; secrets never reach them because no code logs a secret, and these paths are redacted as a backstop.
 * With tracing on, each line logged inside a sampled trace carries its `trace_id` and `span_id`; with it off there
 * is no mixin at all.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', tracing?: Pick<Tracing, 'logFields'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: ['secret', '*.secret', 'authorization', '*.authorization', 'req.headers.authorization', 'url'], censor: '[redacted]' },
    ...(tracing ? { mixin: () => tracing.logFields() } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

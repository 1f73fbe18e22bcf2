import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs; secrets never reach them because no code logs a secret, and these paths are redacted as a backstop. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    redact: { paths: ['secret', '*.secret', 'authorization', '*.authorization', 'req.headers.authorization', 'url'], censor: '[redacted]' },
  });
}

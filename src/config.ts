import path from 'node:path';
import { z } from 'zod';

/**
 * Typed configuration, read once from the environment and validated at start-up: a bad value stops
 * the process with the variable's name rather than failing later inside a request.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATA_DIR: z.string().default(path.resolve(process.cwd(), '.data')),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_BASE_URL: z.string().url().optional(),
  DATABASE_URL: z.string().url().optional(),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('cloudkeep-webhooks'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_UI_URL: z.string().url().optional(),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_START_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  DISPATCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(200).default(16),
  POSTGRES_PORT: port.default(5433),
  WORKER_METRICS_PORT: port.optional(),
  SECRET_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64-encoded')
    .optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default('CloudKeep Webhooks <webhooks@cloudkeep.local>'),
  ALLOW_PRIVATE_TARGETS: bool.optional(),
  SLACK_CLIENT_ID: z.string().optional(),
  SLACK_CLIENT_SECRET: z.string().optional(),
  SLACK_REDIRECT_URL: z.string().url().optional(),
  SLACK_AUTHORIZE_URL: z.string().url().default('https://slack.com/oauth/v2/authorize'),
  SLACK_API_URL: z.string().url().default('https://slack.com/api'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  SHUTDOWN_READINESS_DELAY_SECONDS: z.coerce.number().min(0).max(60).default(0),
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  INGEST_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
  INGEST_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(1000),
  AUTH_FAILURE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  dataDir: string;
  http: { host: string; port: number; publicBaseUrl: string };
  databaseUrl?: string;
  postgresPort: number;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    tls: boolean;
    uiUrl: string;
    devServerPort: number;
    devServerUiPort: number;
    cliPath?: string;
    /** How long the outbox dispatcher waits on a workflow start before leaving the event for a later claim. */
    startTimeoutMs: number;
  };
  /** New deliveries a worker keeps between their start and the end of their local attempt (the outbox's admission). */
  dispatchMaxInFlight: number;
  secretEncryptionKey?: string;
  mail: { smtpUrl?: string; from: string };
  outbound: { allowPrivateTargets: boolean; requireHttps: boolean };
  slack: { clientId?: string; clientSecret?: string; redirectUrl?: string; authorizeUrl: string; apiUrl: string };
  /** SIGTERM: how long /readyz answers 503 before the API stops accepting connections. */
  shutdown: { readinessDelayMs: number };
  /** A worker process on its own serves /metrics on this port (on HOST); unset, it serves none. */
  workerMetricsPort?: number;
  /** Delivery Log retention: attempts, deliveries and events older than this are pruned daily. */
  logRetentionDays: number;
  /** Admin API per key per minute; ingest per service token (sustained per second + burst); failed authentications per address per minute. */
  rateLimits: { adminPerMinute: number; ingestPerSecond: number; ingestBurst: number; authFailuresPerMinute: number };
  logLevel: Env['LOG_LEVEL'];
}

export class ConfigError extends Error {}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.SECRET_ENCRYPTION_KEY) throw new ConfigError('Invalid configuration:\n  SECRET_ENCRYPTION_KEY: required in production');
  if (production && !e.DATABASE_URL) throw new ConfigError('Invalid configuration:\n  DATABASE_URL: required in production');
  if (production && !e.TEMPORAL_ADDRESS) throw new ConfigError('Invalid configuration:\n  TEMPORAL_ADDRESS: required in production');
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`;
  return {
    env: e.NODE_ENV,
    production,
    dataDir: e.DATA_DIR,
    http: { host: e.HOST, port: e.PORT, publicBaseUrl },
    databaseUrl: e.DATABASE_URL,
    postgresPort: e.POSTGRES_PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS ?? Boolean(e.TEMPORAL_API_KEY),
      uiUrl: e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
      devServerPort: e.TEMPORAL_PORT,
      devServerUiPort: e.TEMPORAL_UI_PORT,
      cliPath: e.TEMPORAL_CLI_PATH,
      startTimeoutMs: e.TEMPORAL_START_TIMEOUT_MS,
    },
    dispatchMaxInFlight: e.DISPATCH_MAX_IN_FLIGHT,
    secretEncryptionKey: e.SECRET_ENCRYPTION_KEY,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    // Local targets are what a developer tests against; production never reaches them.
    outbound: { allowPrivateTargets: e.ALLOW_PRIVATE_TARGETS ?? !production, requireHttps: production },
    slack: {
      clientId: e.SLACK_CLIENT_ID,
      clientSecret: e.SLACK_CLIENT_SECRET,
      redirectUrl: e.SLACK_REDIRECT_URL,
      authorizeUrl: e.SLACK_AUTHORIZE_URL,
      apiUrl: e.SLACK_API_URL,
    },
    shutdown: { readinessDelayMs: e.SHUTDOWN_READINESS_DELAY_SECONDS * 1000 },
    workerMetricsPort: e.WORKER_METRICS_PORT,
    logRetentionDays: e.LOG_RETENTION_DAYS,
    rateLimits: {
      adminPerMinute: e.RATE_LIMIT_PER_MINUTE,
      ingestPerSecond: e.INGEST_RATE_LIMIT_PER_SECOND,
      ingestBurst: e.INGEST_RATE_LIMIT_BURST,
      authFailuresPerMinute: e.AUTH_FAILURE_LIMIT_PER_MINUTE,
    },
    logLevel: e.LOG_LEVEL,
  };
}

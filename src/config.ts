import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Typed configuration, read once from the environment and validated at start-up: a bad value stops
 * the process with the variable's name rather than failing later inside a request.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const port = z.coerce.number().int().min(0).max(65535);
/** API rate-limit counts are kept in a PostgreSQL `integer` (migration 010); a billion per window is no limit anyway. */
export const MAX_RATE_LIMIT_COUNT = 1_000_000_000;
const rateLimitCount = z.coerce.number().int().positive().max(MAX_RATE_LIMIT_COUNT);

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
  // mTLS, named as Temporal's own environment configuration names them (the CLI and SDKs read the same variables).
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
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
    .regex(BASE64_KEY, 'must be 32 bytes, base64-encoded')
    .optional(),
  // Keys that open values at rest but never seal: the previous key during a rotation, or the next one while it rolls out.
  SECRET_DECRYPTION_KEYS: z
    .string()
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .superRefine((keys, ctx) => {
      keys.forEach((key, i) => {
        if (!BASE64_KEY.test(key)) ctx.addIssue({ code: 'custom', message: `key ${i + 1} of ${keys.length} must be 32 bytes, base64-encoded` });
      });
    })
    .optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default('CloudKeep Webhooks <webhooks@cloudkeep.local>'),
  ALLOW_PRIVATE_TARGETS: bool.optional(),
  SLACK_CLIENT_ID: z.string().optional(),
  SLACK_CLIENT_SECRET: z.string().optional(),
  SLACK_REDIRECT_URL: z.string().url().optional(),
  SLACK_AUTHORIZE_URL: z.string().url().default('https://slack.com/oauth/v2/authorize'),
  SLACK_API_URL: z.string().url().default('https://slack.com/api'),
  RATE_LIMIT_PER_MINUTE: rateLimitCount.default(600),
  SHUTDOWN_READINESS_DELAY_SECONDS: z.coerce.number().min(0).max(60).default(0),
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  INGEST_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().max(MAX_RATE_LIMIT_COUNT).default(100),
  INGEST_RATE_LIMIT_BURST: rateLimitCount.default(1000),
  AUTH_FAILURE_LIMIT_PER_MINUTE: rateLimitCount.default(20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // OpenTelemetry's own variables (the exporter also reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, …; the resource
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the sampler OTEL_TRACES_SAMPLER): only what decides whether
  // tracing runs, and how it is sent, is checked here.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  OTEL_SDK_DISABLED: bool.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
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
    /** mTLS client certificate and key, and the CA that signed the server's certificate: file paths, re-read when they change. */
    tlsFiles: TemporalTlsFiles;
    /** The name the server's certificate is checked against, when it is not the host of `address`. */
    tlsServerName?: string;
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
  /** Keys that open values sealed earlier (or by processes already on the next key), never used to seal. */
  secretDecryptionKeys: string[];
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
  /** OpenTelemetry traces: on only when an OTLP endpoint is set (src/tracing). */
  tracing: TracingConfig;
}

export interface TracingConfig {
  enabled: boolean;
  /** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  endpoint: string | null;
  /** OTLP over HTTP: protobuf (the OpenTelemetry default) or JSON. */
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
}

export class ConfigError extends Error {}

/** Paths of the Temporal mTLS files, each with the variable that named it (errors name the variable). */
export interface TemporalTlsFiles {
  clientCert?: { path: string; variable: 'TEMPORAL_TLS_CLIENT_CERT_PATH' };
  clientKey?: { path: string; variable: 'TEMPORAL_TLS_CLIENT_KEY_PATH' };
  serverCa?: { path: string; variable: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' };
}

function temporalTls(e: Env): { tls: boolean; tlsFiles: TemporalTlsFiles; tlsServerName?: string } {
  const cert = e.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const key = e.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (cert && !key) throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH (a client certificate needs its key)');
  if (key && !cert) throw new ConfigError('Invalid configuration:\n  TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH (a client key needs its certificate)');
  const tlsOptions = [cert && 'TEMPORAL_TLS_CLIENT_CERT_PATH', e.TEMPORAL_TLS_SERVER_CA_CERT_PATH && 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', e.TEMPORAL_TLS_SERVER_NAME && 'TEMPORAL_TLS_SERVER_NAME'].filter(Boolean);
  if (e.TEMPORAL_TLS === false && tlsOptions.length) throw new ConfigError(`Invalid configuration:\n  TEMPORAL_TLS: false, but ${tlsOptions.join(', ')} set`);
  const tlsFiles: TemporalTlsFiles = {};
  if (cert && key) {
    tlsFiles.clientCert = { path: cert, variable: 'TEMPORAL_TLS_CLIENT_CERT_PATH' };
    tlsFiles.clientKey = { path: key, variable: 'TEMPORAL_TLS_CLIENT_KEY_PATH' };
  }
  if (e.TEMPORAL_TLS_SERVER_CA_CERT_PATH) tlsFiles.serverCa = { path: e.TEMPORAL_TLS_SERVER_CA_CERT_PATH, variable: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' };
  // Readable now; their contents are checked when the connection is made (src/temporal-tls.ts).
  for (const file of Object.values(tlsFiles)) {
    try {
      fs.accessSync(file.path, fs.constants.R_OK);
    } catch (err) {
      throw new ConfigError(`Invalid configuration:\n  ${file.variable}: cannot read ${file.path} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  // As Temporal's CLI does: TLS is on when an API key or any TLS option is given, unless TEMPORAL_TLS says otherwise.
  return { tls: e.TEMPORAL_TLS ?? Boolean(e.TEMPORAL_API_KEY || tlsOptions.length), tlsFiles, tlsServerName: e.TEMPORAL_TLS_SERVER_NAME };
}

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
      ...temporalTls(e),
      uiUrl: e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
      devServerPort: e.TEMPORAL_PORT,
      devServerUiPort: e.TEMPORAL_UI_PORT,
      cliPath: e.TEMPORAL_CLI_PATH,
      startTimeoutMs: e.TEMPORAL_START_TIMEOUT_MS,
    },
    dispatchMaxInFlight: e.DISPATCH_MAX_IN_FLIGHT,
    secretEncryptionKey: e.SECRET_ENCRYPTION_KEY,
    secretDecryptionKeys: e.SECRET_DECRYPTION_KEYS ?? [],
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
    tracing: {
      enabled: Boolean(e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT) && !e.OTEL_SDK_DISABLED,
      endpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : null),
      protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      serviceName: e.OTEL_SERVICE_NAME ?? 'cloudkeep-webhooks',
    },
  };
}

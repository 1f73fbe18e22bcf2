import { Client, ClientInterceptors, ConnectionLike, InternalConnectionLikeSymbol, Metadata } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Config } from './config';
import type { Logger } from './logger';
import { hasTlsFiles, readTemporalTls, TemporalTlsMaterial } from './temporal-tls';

type TemporalOptions = Config['temporal'] & { address: string };

export interface ConnectOptions {
  /** How long to keep trying while a just-started server comes up. */
  deadlineMs?: number;
  /** How often the mTLS files are read again to see whether they changed (certificate rotation). */
  reloadIntervalMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The client's interceptors: the tracing's, when it is on. */
  interceptors?: ClientInterceptors;
}

/** cert-manager renews at two thirds of a certificate's life: a check every 30 s is far inside any renewal window. */
export const TLS_RELOAD_INTERVAL_MS = 30_000;

const silent = { info() {}, warn() {}, error() {} };

async function open(t: TemporalOptions, material: TemporalTlsMaterial): Promise<NativeConnection> {
  const connection = await NativeConnection.connect({ address: t.address, tls: material.tls, apiKey: t.apiKey });
  try {
    await connection.workflowService.describeNamespace({ namespace: t.namespace });
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/**
 * The client's view of the process's current connection: every call reads `current()` afresh, so a client (and
 * every service holding it) follows a reconnection with new credentials without being rebuilt. Eager start stays
 * available: it is a capability of the NativeConnection underneath, passed through.
 */
class FollowingConnection implements ConnectionLike {
  constructor(private readonly current: () => NativeConnection) {}
  get workflowService() {
    return this.current().workflowService;
  }
  get operatorService() {
    return this.current().operatorService;
  }
  get healthService() {
    return this.current().healthService;
  }
  get plugins() {
    return this.current().plugins;
  }
  get [InternalConnectionLikeSymbol]() {
    return (this.current() as unknown as Record<typeof InternalConnectionLikeSymbol, unknown>)[InternalConnectionLikeSymbol];
  }
  ensureConnected() {
    return this.current().ensureConnected();
  }
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>) {
    return this.current().withDeadline(deadline, fn);
  }
  withMetadata<R>(metadata: Metadata, fn: () => Promise<R>) {
    return this.current().withMetadata(metadata, fn);
  }
  withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>) {
    return this.current().withAbortSignal(signal, fn);
  }
  /** The process's TemporalConnection owns the sockets and closes them. */
  async close() {}
}

export type ReloadOutcome = 'unchanged' | 'replaced' | 'failed';

/**
 * One Temporal connection for the whole process: the client and any worker of this process share it, which lets
 * starts go eager. With mTLS files configured it watches them (read every `reloadIntervalMs`, compared by content,
 * so a Kubernetes Secret's symlink swap counts): when they change and the new pair checks out, it opens a new
 * connection with them, proves it (describeNamespace), moves the workers onto it (Worker's connection setter, the
 * SDK's replaceClient) and the client with them, then closes the old one. A half-written rotation (certificate
 * without its key yet) or a connection the server refuses leaves the working connection in place and is tried again.
 */
export class TemporalConnection {
  readonly client: Client;
  private readonly workers = new Set<Worker>();
  private readonly retired: NativeConnection[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadOutcome> | undefined;
  private closed = false;

  private constructor(
    private readonly options: TemporalOptions,
    private current: NativeConnection,
    private fingerprint: string,
    private readonly logger: NonNullable<ConnectOptions['logger']>,
    reloadIntervalMs: number,
    interceptors: ClientInterceptors | undefined,
  ) {
    this.client = new Client({ connection: new FollowingConnection(() => this.current), namespace: options.namespace, interceptors });
    if (hasTlsFiles(options)) {
      this.timer = setInterval(() => void this.reload(), reloadIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Connects, retrying while a just-started server comes up. The mTLS files are read and checked first: a missing
   * file or a key that is not the certificate's stops the process at once, naming the variable.
   */
  static async connect(t: TemporalOptions, options: ConnectOptions = {}): Promise<TemporalConnection> {
    installRuntime();
    const material = readTemporalTls(t);
    const until = Date.now() + (options.deadlineMs ?? 60_000);
    for (;;) {
      try {
        const connection = await open(t, material);
        return new TemporalConnection(t, connection, material.fingerprint, options.logger ?? silent, options.reloadIntervalMs ?? TLS_RELOAD_INTERVAL_MS, options.interceptors);
      } catch (err) {
        if (Date.now() > until) throw new Error(`Temporal at ${t.address} is not reachable: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** The connection in use now; a worker created on it must be `attachWorker`ed to follow certificate rotations. */
  get connection(): NativeConnection {
    return this.current;
  }

  /** The worker moves to each new connection with the client. */
  attachWorker(worker: Worker): void {
    this.workers.add(worker);
  }

  /** Reads the mTLS files again and, if they changed, reconnects with them (one reload at a time). */
  reload(): Promise<ReloadOutcome> {
    if (this.closed) return Promise.resolve('unchanged');
    this.reloading ??= this.reloadNow().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    let material: TemporalTlsMaterial;
    try {
      material = readTemporalTls(this.options);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'Temporal TLS files changed but are not usable yet; the current connection stays');
      return 'failed';
    }
    if (material.fingerprint === this.fingerprint) return 'unchanged';
    let next: NativeConnection;
    try {
      next = await open(this.options, material);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'Temporal refused a connection with the new TLS files; the current connection stays');
      return 'failed';
    }
    if (this.closed) {
      await next.close();
      return 'unchanged';
    }
    const previous = this.current;
    this.current = next;
    this.fingerprint = material.fingerprint;
    for (const worker of this.workers) {
      const state = worker.getState();
      if (state === 'STOPPED' || state === 'FAILED') this.workers.delete(worker);
      else if (state === 'INITIALIZED' || state === 'RUNNING') worker.connection = next;
    }
    try {
      await previous.close();
    } catch {
      // A worker stopping keeps it until it has stopped: closed with the rest.
      this.retired.push(previous);
    }
    this.logger.info({ clientCertificate: material.clientCertificate }, 'Temporal connection renewed with the changed TLS files');
    return 'replaced';
  }

  /** Stops watching and closes the connection (after the workers on it have stopped). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.reloading;
    // A retired connection a worker never let go of (it did not stop) is dropped with the process.
    for (const connection of this.retired) await connection.close().catch(() => undefined);
    await this.current.close();
  }
}

/** One connection for the whole process (see TemporalConnection). */
export function connectTemporal(t: TemporalOptions, options?: ConnectOptions): Promise<TemporalConnection> {
  return TemporalConnection.connect(t, options);
}

let runtimeInstalled = false;
/**
 * The SDK's own log at TEMPORAL_LOG_LEVEL (WARN: the bundler's report is noise on every start). The native core's
 * log is forwarded to the same logger, so one level governs both.
 */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'WARN') as 'WARN';
  try {
    // Our entry points own SIGINT/SIGTERM (shutting the worker down with everything else, exit code 0).
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level, other: level }), forward: {} } },
      shutdownSignals: [],
    });
  } catch {
    // Already installed by the host (tests): keep theirs.
  }
}

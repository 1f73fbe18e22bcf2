/**
 * The real Temporal server (the Go build `npm run cluster` uses) with mutual TLS on its frontend, on loopback:
 * in-memory SQLite persistence (nothing to set up), every service in one process. Clients must present a
 * certificate signed by a CA in `clientCaFile`, which the server re-reads every second: replacing that file
 * changes whom it accepts without a restart (new handshakes only; open connections stay).
 */
import fs from 'node:fs';
import path from 'node:path';
import { freeServerPorts } from '../../src/dev/temporal-cluster';
import { waitForListening } from '../../src/dev/ports';
import { ManagedProcess, startProcess, tail } from '../../src/dev/processes';
import { temporalServerPaths } from '../../src/dev/temporal-server';

export interface TlsTemporalServer {
  address: string;
  process: ManagedProcess;
  stop: () => Promise<void>;
}

export interface ServerTlsFiles {
  /** The frontend's certificate and key (its SAN names `serverName`), also the system worker's client certificate. */
  cert: string;
  key: string;
  /** The CA that signed `cert`: trusted for the system worker's own client certificate, and by it for the frontend. */
  ca: string;
  /** The CA (or CAs) whose client certificates the frontend accepts: re-read every second. */
  clientCaFile: string;
  serverName: string;
}

export async function startTlsTemporalServer(options: { dir: string; tls: ServerTlsFiles }): Promise<TlsTemporalServer> {
  const build = temporalServerPaths();
  if (!fs.existsSync(build.server)) throw new Error(`No Temporal server at ${build.server}: run \`npm run test:cluster\` (it builds it) or \`node --import tsx scripts/prepare-cluster.ts\``);
  const ports = await freeServerPorts();
  const { tls } = options;
  const sqlite = (name: string) => ({
    sql: { pluginName: 'sqlite', databaseName: name, connectAddr: 'localhost', connectProtocol: 'tcp', connectAttributes: { mode: 'memory', cache: 'private' }, maxConns: 1, maxIdleConns: 1, maxConnLifetime: '1h' },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) } });
  // JSON is YAML: the server reads this file as its configuration.
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: { defaultStore: 'sqlite-default', visibilityStore: 'sqlite-visibility', numHistoryShards: 1, datastores: { 'sqlite-default': sqlite('default'), 'sqlite-visibility': sqlite('visibility') } },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', listenAddress: `127.0.0.1:${ports.metrics}` } },
      tls: {
        refreshInterval: '1s',
        frontend: { server: { certFile: tls.cert, keyFile: tls.key, requireClientAuth: true, clientCaFiles: [tls.ca, tls.clientCaFile] } },
        systemWorker: { certFile: tls.cert, keyFile: tls.key, client: { serverName: tls.serverName, rootCaFiles: [tls.ca] } },
      },
    },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership, ports.frontendHttp),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
  };
  const configDir = path.join(options.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'mtls.yaml'), JSON.stringify(config, null, 2));
  const server = startProcess({
    name: 'temporal-server (mTLS)',
    command: build.server,
    args: ['--root', options.dir, '--config', 'config', '--env', 'mtls', '--allow-no-auth', 'start'],
    logFile: path.join(options.dir, 'temporal-server.log'),
  });
  try {
    await waitForListening(ports.frontend, { deadlineMs: 90_000, child: server.child, name: 'The Temporal server' });
  } catch (err) {
    await server.stop(5000);
    throw new Error(`${(err as Error).message}\n${tail(server.logFile)}`);
  }
  return { address: `127.0.0.1:${ports.frontend}`, process: server, stop: async () => void (await server.stop(20_000)) };
}

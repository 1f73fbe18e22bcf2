import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { EMBEDDED_POSTGRES_PASSWORD as PASSWORD } from './postgres-password';

/** A start that cannot succeed, said in one line: what went wrong and what to do. */
export class EmbeddedPostgresError extends Error {}

export interface EmbeddedDatabase {
  url: (database?: string) => string;
  createDatabase: (name: string) => Promise<void>;
  stop: () => Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Where binaries and data go when the `postgres` user cannot reach them where they are (root only). */
const REACHABLE_BASE = path.join(fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir(), 'cloudkeep-webhooks');

/** The PostgreSQL build the `embedded-postgres` package installs for this platform: its folder and version. */
function packagedBinaries(): { nativeDir: string; version: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name, { paths: [path.dirname(require.resolve('embedded-postgres'))] });
  } catch {
    throw new EmbeddedPostgresError(`No embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed): set DATABASE_URL to a PostgreSQL of your own`);
  }
  const packageDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: path.join(packageDir, 'native'), version };
}

/** PostgreSQL refuses to run as root: as root it runs as the `postgres` user, created if missing. */
function postgresUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const ids = (): RunAs => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres'], { stdio: 'ignore' });
      return ids();
    } catch {
      throw new EmbeddedPostgresError('PostgreSQL cannot run as root and no `postgres` user could be created to run it: create one (useradd postgres), run as another user, or set DATABASE_URL');
    }
  }
}

/**
 * Whether `user` can search (folder) or execute (file) `file`, asked as that user: the same credentials the
 * server gets (Node drops supplementary groups when it switches user), so no permission rule is re-implemented.
 */
function canReach(user: RunAs, file: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', file], { ...user, cwd: '/', stdio: 'ignore' }).status === 0;
}

/**
 * A folder under REACHABLE_BASE that only root can write to. The base is in a world-writable folder, so it must
 * be ours: a folder someone else made there could hand the server their binaries.
 */
function reachableFolder(name: string): string {
  fs.mkdirSync(REACHABLE_BASE, { recursive: true, mode: 0o755 });
  const base = fs.lstatSync(REACHABLE_BASE);
  if (!base.isDirectory() || base.uid !== 0 || (base.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(`${REACHABLE_BASE} is not a folder owned by root and writable only by root: remove it and start again, or set DATABASE_URL`);
  }
  const dir = path.join(REACHABLE_BASE, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** The binaries where `user` can run them: in place, or a copy under REACHABLE_BASE made once per version. */
function reachableBinaries(user: RunAs | null, packaged: { nativeDir: string; version: string }): { bin: string; copiedTo: string | null } {
  const inPlace = path.join(packaged.nativeDir, 'bin');
  if (!user || canReach(user, path.join(inPlace, 'postgres'))) return { bin: inPlace, copiedTo: null };
  const copy = path.join(reachableFolder('postgres'), `${packaged.version}-${process.platform}-${process.arch}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    // Copied aside and renamed into place, so a start that dies half way leaves no half copy behind.
    const partial = `${copy}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(packaged.nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    try {
      fs.renameSync(partial, copy);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      // Another start copied it first.
      if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) throw err;
    }
  }
  if (!canReach(user, path.join(copy, 'bin', 'postgres'))) {
    throw new EmbeddedPostgresError(`The postgres user cannot run PostgreSQL from ${inPlace} nor from ${copy} (mounted noexec?): start from a folder that user can reach, or set DATABASE_URL`);
  }
  return { bin: path.join(copy, 'bin'), copiedTo: copy };
}

/**
 * The data folder's real location. `dir` itself when `user` can reach it; else (root in a folder closed to others)
 * a folder under REACHABLE_BASE, with `dir` made a link to it so a second start, and `ls`, find it again.
 */
function reachableDataDir(user: RunAs | null, dir: string): { dataDir: string; relocated: boolean } {
  const existing = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) {
    const target = fs.realpathSync(dir);
    if (user && !canReach(user, target)) throw new EmbeddedPostgresError(`The postgres user cannot reach ${target} (linked from ${dir}): remove the link to start afresh, or set DATABASE_URL`);
    return { dataDir: target, relocated: true };
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  if (!user || canReach(user, existing ? dir : path.dirname(dir))) return { dataDir: dir, relocated: false };
  if (existing && fs.readdirSync(dir).length > 0) {
    throw new EmbeddedPostgresError(`The postgres user cannot reach PostgreSQL's data in ${dir}: move the project to a folder that user can enter, or set DATABASE_URL`);
  }
  if (existing) fs.rmdirSync(dir);
  const target = path.join(reachableFolder('postgres-data'), randomBytes(8).toString('hex'));
  fs.mkdirSync(target, { mode: 0o700 });
  fs.symlinkSync(target, dir);
  return { dataDir: target, relocated: true };
}

const LOG_PREFIX = /^.*?\b(?:LOG|WARNING|ERROR|FATAL|PANIC):\s+/;

/**
 * What went wrong, from PostgreSQL's output: the first complaint (the cause, e.g. `could not bind … Address already
 * in use`) and the last one (the consequence), without their log prefixes.
 */
export function whatWentWrong(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const complaints = lines.filter((l) => /\b(?:ERROR|FATAL|PANIC):|could not/i.test(l)).map((l) => l.replace(LOG_PREFIX, ''));
  if (complaints.length === 0) return lines.at(-1)?.replace(LOG_PREFIX, '') ?? 'no output';
  return [...new Set([complaints[0], complaints.at(-1)!])].join('; ');
}

/** Hands `log` each complete line of a stream's output. */
function lineByLine(log: (line: string) => void): (chunk: Buffer | string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) log(line);
  };
}

/** Runs `bin/<program>` as `user` (or ourselves) from `cwd` and resolves with its exit code and output. */
function run(bin: string, program: string, args: string[], user: RunAs | null, cwd: string, log: (line: string) => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(bin, program), args, { ...(user ?? {}), cwd, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const toLog = lineByLine(log);
    const collect = (d: Buffer) => {
      output = (output + d).slice(-8000);
      toLog(d);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => reject(new EmbeddedPostgresError(`${program} could not be run: ${err.message}`)));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** `initdb` for a fresh data folder: password auth for user `postgres`, UTF-8, messages in English. */
async function initialise(bin: string, dataDir: string, user: RunAs | null, log: (line: string) => void): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Beside the data folder, where `user` can read it; its name is not guessable, and it is gone after initdb.
  const pwfile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(8).toString('hex')}`);
  fs.writeFileSync(pwfile, PASSWORD + '\n', { mode: 0o600 });
  try {
    if (user) {
      fs.chownSync(dataDir, user.uid, user.gid);
      fs.chownSync(pwfile, user.uid, user.gid);
    }
    const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'];
    const { code, output } = await run(bin, 'initdb', args, user, path.dirname(dataDir), log);
    if (code !== 0) throw new EmbeddedPostgresError(`PostgreSQL's initdb failed for ${dataDir}: ${whatWentWrong(output)}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** The server, resolved once it accepts connections; a server that exits first rejects with its last error. */
function startServer(bin: string, dataDir: string, port: number, user: RunAs | null, log: (line: string) => void, ownProcessGroup: boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // Loopback only, and no Unix socket (its default folder may not exist or be writable here).
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
    const server = spawn(path.join(bin, 'postgres'), args, {
      ...(user ?? {}),
      cwd: path.dirname(dataDir),
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: ownProcessGroup,
    });
    let output = '';
    let ready = false;
    const toLog = lineByLine(log);
    // Read to the end: a server whose log pipe fills up stops.
    server.stderr!.on('data', (d: Buffer) => {
      toLog(d);
      if (ready) return;
      output = (output + d).slice(-8000);
      if (output.includes('database system is ready to accept connections')) {
        ready = true;
        resolve(server);
      }
    });
    server.on('error', (err) => reject(new EmbeddedPostgresError(`PostgreSQL could not be run: ${err.message}`)));
    server.on('exit', () => {
      if (!ready) reject(new EmbeddedPostgresError(`PostgreSQL did not start on port ${port}: ${whatWentWrong(output)}`));
    });
  });
}

/**
 * A real PostgreSQL from the binaries the `embedded-postgres` package installs, data under `dir`. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user; when that user cannot reach the binaries
 * or `dir` (a project inside a home folder with mode 700), they are placed under /var/tmp/cloudkeep-webhooks/
 * and `notice` says so. Whatever cannot be done is an EmbeddedPostgresError with a one-line message.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  /** Where what the user should know goes (one line each): where the binaries and data went. */
  notice?: (line: string) => void;
  /** PostgreSQL's own output, line by line (initdb's and the server's log). */
  log?: (line: string) => void;
  /**
   * Out of our process group, so a terminal's Ctrl-C (sent to the whole group) reaches only us and we stop the server
   * after what uses it (`npm start`). It still goes when this process exits.
   */
  ownProcessGroup?: boolean;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const user = postgresUser();
  const binaries = reachableBinaries(user, packagedBinaries());
  const { dataDir, relocated } = reachableDataDir(user, path.resolve(options.dir));
  if (binaries.copiedTo) options.notice?.(`PostgreSQL runs as the postgres user, who cannot reach this project's copy of it: running the one in ${binaries.copiedTo}`);
  if (relocated) options.notice?.(`PostgreSQL runs as the postgres user, who cannot reach ${options.dir}: its data is in ${dataDir}, linked from there`);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(binaries.bin, dataDir, user, log);
  const server = await startServer(binaries.bin, dataDir, options.port, user, log, options.ownProcessGroup ?? false);
  // If this process ends without stop(), the server goes with it (SIGINT: PostgreSQL's fast shutdown).
  const stopOnExit = () => server.kill('SIGINT');
  process.once('exit', stopOnExit);

  const url = (database = 'postgres') => `postgres://postgres:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return {
    url,
    createDatabase: async (name) => {
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      process.off('exit', stopOnExit);
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    },
  };
}

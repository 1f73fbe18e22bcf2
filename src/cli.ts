/**
 * Operator CLI: creates organizations and their API keys (keys are shown once, stored hashed).
 *
 *   npm run cli -- org create --name Acme --email ops@acme.test
 *   npm run cli -- org weight --org <org id> --weight 2      (its share of the delivery queue under load)
 *   npm run cli -- key create --org <org id> --kind admin|service --name "CI deploy"
 *   npm run cli -- key list --org <org id>
 *   npm run cli -- key revoke --id <key id>
 *   npm run cli -- keys re-encrypt [--batch-size 500]   (after an encryption-key rotation: docs/operations.md)
 *
 * Talks to DATABASE_URL, or to the `npm start` development database when it is unset.
 * Prints JSON on stdout; usage errors go to stderr with exit code 2.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from './config';
import { createDb, migrateLatest } from './db/knex';
import { organizationsStore } from './db/stores/organizations';
import { createKey, createOrganization } from './dev/credentials';
import { apiKeysStore } from './db/stores/api-keys';
import { hashToken } from './domain/tokens';
import { presentApiKey } from './services/api-keys';
import { loadSecretBox } from './encryption-keys';
import { DEFAULT_REENCRYPT_BATCH_SIZE, MAX_REENCRYPT_BATCH_SIZE, reEncryptSecrets, ReEncryptReport } from './services/key-rotation';

/** The database `npm start` creates in its embedded PostgreSQL (runtime.ts's DEV_DATABASE). */
const DEV_DATABASE = 'cloudkeep_webhooks';

export const USAGE = `Usage:
  npm run cli -- org create --name <name> --email <notification email>
  npm run cli -- org weight --org <organization id> --weight <0.001–1000, default 1>
  npm run cli -- key create --org <organization id> --kind admin|service --name <key name>
  npm run cli -- key list --org <organization id>
  npm run cli -- key revoke --id <key id>
  npm run cli -- keys re-encrypt [--batch-size <1–${MAX_REENCRYPT_BATCH_SIZE}, default ${DEFAULT_REENCRYPT_BATCH_SIZE}>]
      re-seals every stored secret under SECRET_ENCRYPTION_KEY (opening with it and SECRET_DECRYPTION_KEYS)

Environment: DATABASE_URL (default: the development database of \`npm start\`).`;

export class UsageError extends Error {}

type Command =
  | { command: 'org create'; name: string; email: string }
  | { command: 'org weight'; org: string; weight: number }
  | { command: 'key create'; org: string; kind: 'admin' | 'service'; name: string }
  | { command: 'key list'; org: string }
  | { command: 'key revoke'; id: string }
  | { command: 'keys re-encrypt'; batchSize: number };

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Parses argv (without node and script); throws UsageError naming what is wrong. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { name: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' }, kind: { type: 'string' }, id: { type: 'string' }, weight: { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals.join(' ');
  const required = (option: 'name' | 'email' | 'org' | 'kind' | 'id' | 'weight'): string => {
    const value = values[option]?.trim();
    if (!value) throw new UsageError(`${command}: --${option} is required`);
    return value;
  };
  const allowOnly = (...allowed: string[]) => {
    const extra = Object.keys(values).filter((k) => !allowed.includes(k));
    if (extra.length) throw new UsageError(`${command}: unexpected option --${extra[0]}`);
  };
  switch (command) {
    case 'org create': {
      allowOnly('name', 'email');
      const email = required('email');
      if (!EMAIL.test(email)) throw new UsageError(`org create: --email "${email}" is not an email address`);
      return { command, name: required('name'), email };
    }
    case 'org weight': {
      allowOnly('org', 'weight');
      const weight = Number(required('weight'));
      if (!Number.isFinite(weight) || weight < 0.001 || weight > 1000) throw new UsageError(`org weight: --weight must be a number from 0.001 to 1000, not "${values.weight}"`);
      return { command, org: required('org'), weight };
    }
    case 'key create': {
      allowOnly('org', 'kind', 'name');
      const kind = required('kind');
      if (kind !== 'admin' && kind !== 'service') throw new UsageError(`key create: --kind must be admin or service, not "${kind}"`);
      return { command, org: required('org'), kind, name: required('name') };
    }
    case 'key list':
      allowOnly('org');
      return { command, org: required('org') };
    case 'key revoke':
      allowOnly('id');
      return { command, id: required('id') };
    case 'keys re-encrypt': {
      allowOnly('batch-size');
      const given = values['batch-size'];
      const batchSize = given === undefined ? DEFAULT_REENCRYPT_BATCH_SIZE : Number(given);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_REENCRYPT_BATCH_SIZE) {
        throw new UsageError(`keys re-encrypt: --batch-size must be a whole number from 1 to ${MAX_REENCRYPT_BATCH_SIZE}, not "${given}"`);
      }
      return { command, batchSize };
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const cmd = parseCommand(argv);
  const config = loadConfig(env);
  const db = createDb(config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.postgresPort}/${DEV_DATABASE}`, { min: 0, max: 2 });
  try {
    await migrateLatest(db);
    if (cmd.command === 'org create') {
      const id = await createOrganization(db, cmd.name, cmd.email);
      return { id, name: cmd.name, notificationEmail: cmd.email };
    }
    if (cmd.command === 'keys re-encrypt') return await reEncryptSecrets(db, loadSecretBox(config), { batchSize: cmd.batchSize });
    if (cmd.command === 'key revoke') {
      // The operator may revoke any key, the organization's last admin key included (the API refuses that one).
      const key = await apiKeysStore.get(db, cmd.id);
      if (!key) throw new UsageError(`key revoke: no key with id "${cmd.id}"`);
      const revoked = (await apiKeysStore.revoke(db, cmd.id, new Date())) ?? key;
      return { ...presentApiKey(revoked), organizationId: revoked.organization_id };
    }
    if (!(await organizationsStore.get(db, cmd.org))) throw new UsageError(`${cmd.command}: no organization with id "${cmd.org}"`);
    if (cmd.command === 'org weight') {
      await organizationsStore.setFairnessWeight(db, cmd.org, cmd.weight);
      return { id: cmd.org, fairnessWeight: cmd.weight, note: 'Applies to deliveries started from a minute from now.' };
    }
    if (cmd.command === 'key list') {
      const rows = await apiKeysStore.listForOrganization(db, cmd.org, 10_000);
      return { organizationId: cmd.org, keys: rows.map(presentApiKey) };
    }
    const key = await createKey(db, cmd.org, cmd.kind, cmd.name);
    const id = (await apiKeysStore.findActiveByHash(db, hashToken(key)))?.id;
    return { id, organizationId: cmd.org, kind: cmd.kind, name: cmd.name, key, note: 'The key is shown only now; store it safely.' };
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    if (argv.length === 0) {
      console.error(USAGE);
      process.exit(2);
    }
    console.log(USAGE);
    process.exit(0);
  }
  run(argv).then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
      // Values no key opens: the operator must not drop a key yet.
      if ((result as Partial<ReEncryptReport>).remaining) process.exitCode = 1;
    },
    (err: Error) => {
      if (err instanceof UsageError) {
        console.error(`error: ${err.message}\n\n${USAGE}`);
        process.exit(2);
      }
      console.error(`error: ${err.message}`);
      process.exit(1);
    },
  );
}

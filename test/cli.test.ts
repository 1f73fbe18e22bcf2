/**
 * The operator CLI as an operator runs it: a child process against the stack's database; the keys it
 * prints then work against the API.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createStack, secretCreatedData, Stack } from './support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => stack?.close());

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'src/cli.ts', ...args],
      { cwd: path.resolve(__dirname, '..'), env: { ...process.env, DATABASE_URL: stack.config.databaseUrl }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it('creates an organization and its admin and service keys, which then work against the API', async () => {
  const org = await cli('org', 'create', '--name', 'Acme CLI', '--email', 'ops@acme.test');
  expect(org.code).toBe(0);
  const { id } = JSON.parse(org.stdout);
  expect(id).toMatch(/^org_/);
  expect(await stack.db('organizations').where({ id }).first()).toMatchObject({ name: 'Acme CLI', notification_email: 'ops@acme.test' });

  const [admin, service] = await Promise.all([
    cli('key', 'create', '--org', id, '--kind', 'admin', '--name', 'ops'),
    cli('key', 'create', '--org', id, '--kind', 'service', '--name', 'ingest'),
  ]);
  expect(admin.code).toBe(0);
  expect(service.code).toBe(0);
  const adminKey = JSON.parse(admin.stdout).key as string;
  const serviceKey = JSON.parse(service.stdout).key as string;
  expect(JSON.parse(admin.stdout)).toMatchObject({ organizationId: id, kind: 'admin', name: 'ops' });

  const list = await stack.api('GET', '/v1/webhooks', adminKey);
  expect(list.status).toBe(200);
  expect(list.body.data).toEqual([]);
  const ingest = await stack.api('POST', '/v1/events', serviceKey, { event: 'secret.created', data: secretCreatedData });
  expect(ingest.status).toBe(202);
  expect(ingest.body.deliveries).toBe(0);
  // Each key is only its own kind.
  expect((await stack.api('GET', '/v1/webhooks', serviceKey)).status).toBe(403);
  // Stored hashed: the clear key is nowhere in the database.
  const rows = await stack.db('api_keys').where({ organization_id: id });
  expect(rows).toHaveLength(2);
  expect(JSON.stringify(rows)).not.toContain(adminKey);
});

it("sets an organization's fairness weight, its share of the delivery queue under load", async () => {
  const org = await stack.createOrg('Weighty', 'ops@weighty.test');
  const set = await cli('org', 'weight', '--org', org.id, '--weight', '4');
  expect(set.code).toBe(0);
  expect(JSON.parse(set.stdout)).toMatchObject({ id: org.id, fairnessWeight: 4 });
  expect((await stack.db('organizations').where({ id: org.id }).first()).fairness_weight).toBe(4);
  const refused = await cli('org', 'weight', '--org', org.id, '--weight', '0');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/--weight must be a number from 0.001 to 1000/);
  expect((await stack.db('organizations').where({ id: org.id }).first()).fairness_weight).toBe(4);
});

it('answers usage errors clearly, with exit code 2 and nothing written', async () => {
  const before = await stack.db('organizations').count<{ count: string }[]>('* as count');
  const cases: [string[], RegExp][] = [
    [[], /Usage:/],
    [['org', 'create', '--name', 'Acme'], /--email is required/],
    [['org', 'create', '--name', 'Acme', '--email', 'not-an-email'], /not an email address/],
    [['key', 'create', '--org', 'org_x', '--kind', 'root', '--name', 'x'], /--kind must be admin or service/],
    [['key', 'create', '--org', 'org_does_not_exist', '--kind', 'admin', '--name', 'x'], /no organization with id "org_does_not_exist"/],
    [['org', 'delete'], /unknown command "org delete"/],
    [['keys', 're-encrypt', '--batch-size', '0'], /--batch-size must be a whole number from 1 to 10000, not "0"/],
    [['org', 'create', '--name', 'A', '--email', 'a@b.c', '--colour', 'red'], /Unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(...args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  }
  expect(await stack.db('organizations').count('* as count')).toEqual(before);
  expect(await stack.db('api_keys').where({ organization_id: 'org_does_not_exist' })).toEqual([]);
});

/**
 * Keys can be revoked (issue 9, defect 11): an organization lists and revokes its own admin keys and service
 * tokens over the API, the operator does it with the CLI, and a revoked key answers 401 from the next request.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createKey } from '../src/dev/credentials';
import { createStack, Org, secretCreatedData, Stack } from './support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => stack?.close());

const keyIdOf = async (org: Org, name: string) => (await stack.db('api_keys').where({ organization_id: org.id, name }).first()).id as string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli.ts', ...args], { cwd: path.resolve(__dirname, '..'), env: { ...process.env, DATABASE_URL: stack.config.databaseUrl }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it("lists the organization's own keys, never a token or its hash", async () => {
  const org = await stack.createOrg('Lister');
  const other = await stack.createOrg('Other');
  const res = await stack.api('GET', '/v1/api-keys', org.apiKey);
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  expect(res.body.data.map((k: { name: string; kind: string }) => `${k.kind}:${k.name}`).sort()).toEqual(['admin:test admin', 'service:test ingest']);
  for (const key of res.body.data) {
    expect(Object.keys(key).sort()).toEqual(['createdAt', 'id', 'kind', 'name', 'prefix', 'revokedAt']);
    expect(key).toMatchObject({ id: expect.stringMatching(/^key_/), prefix: expect.stringMatching(/^ck_(admin|svc)_/), revokedAt: null });
  }
  const text = JSON.stringify(res.body);
  const hashes = (await stack.db('api_keys').where({ organization_id: org.id })).map((k: { token_hash: string }) => k.token_hash);
  for (const secret of [org.apiKey, org.serviceToken, ...hashes, other.apiKey]) expect(text).not.toContain(secret);
  expect(text).not.toContain(await keyIdOf(other, 'test admin'));
  // Paging works like the other lists.
  const first = await stack.api('GET', '/v1/api-keys?limit=1', org.apiKey);
  const second = await stack.api('GET', `/v1/api-keys?limit=1&cursor=${first.body.nextCursor}`, org.apiKey);
  expect([...first.body.data, ...second.body.data].map((k: { id: string }) => k.id).sort()).toEqual(res.body.data.map((k: { id: string }) => k.id).sort());
});

it('a revoked service token answers 401 at once; revoking again changes nothing; it stays listed as revoked', async () => {
  const org = await stack.createOrg('Revoker');
  expect((await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData })).status).toBe(202);
  const id = await keyIdOf(org, 'test ingest');
  expect((await stack.api('DELETE', `/v1/api-keys/${id}`, org.apiKey)).status).toBe(204);
  const refused = await stack.api('POST', '/v1/events', org.serviceToken, { event: 'secret.created', data: secretCreatedData });
  expect(refused).toMatchObject({ status: 401, body: { errors: [{ field: 'Authorization' }] } });
  const revokedAt = (await stack.db('api_keys').where({ id }).first()).revoked_at;
  expect((await stack.api('DELETE', `/v1/api-keys/${id}`, org.apiKey)).status).toBe(204);
  expect((await stack.db('api_keys').where({ id }).first()).revoked_at).toEqual(revokedAt);
  const listed = (await stack.api('GET', '/v1/api-keys', org.apiKey)).body.data.find((k: { id: string }) => k.id === id);
  expect(listed.revokedAt).toBe(revokedAt.toISOString());
});

it("an admin key may revoke itself while another admin key exists, but not the organization's last one", async () => {
  const org = await stack.createOrg('Self');
  const second = await createKey(stack.db, org.id, 'admin', 'second admin');
  const firstId = await keyIdOf(org, 'test admin');
  const secondId = await keyIdOf(org, 'second admin');

  expect((await stack.api('DELETE', `/v1/api-keys/${firstId}`, org.apiKey)).status).toBe(204);
  expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).status).toBe(401);

  const last = await stack.api('DELETE', `/v1/api-keys/${secondId}`, second);
  expect(last).toMatchObject({ status: 409, contentType: expect.stringContaining('application/problem+json'), body: { errors: [{ field: 'id' }] } });
  expect((await stack.api('GET', '/v1/webhooks', second)).status).toBe(200);
});

it("another organization's key is a 404 and stays active", async () => {
  const org = await stack.createOrg('Mine');
  const other = await stack.createOrg('Theirs');
  const theirs = await keyIdOf(other, 'test ingest');
  expect((await stack.api('DELETE', `/v1/api-keys/${theirs}`, org.apiKey)).status).toBe(404);
  expect((await stack.api('DELETE', '/v1/api-keys/key_doesNotExist', org.apiKey)).status).toBe(404);
  expect((await stack.db('api_keys').where({ id: theirs }).first()).revoked_at).toBeNull();
  expect((await stack.api('DELETE', `/v1/api-keys/${theirs}`, org.serviceToken)).status).toBe(403);
});

it('the operator CLI lists and revokes keys (the last admin key too); the revoked key answers 401', async () => {
  const org = await stack.createOrg('Operated');
  const list = await cli('key', 'list', '--org', org.id);
  expect(list.code).toBe(0);
  const listed = JSON.parse(list.stdout);
  expect(listed.keys.map((k: { name: string }) => k.name).sort()).toEqual(['test admin', 'test ingest']);
  expect(list.stdout).not.toContain(org.apiKey);

  const adminId = listed.keys.find((k: { kind: string }) => k.kind === 'admin').id;
  const revoked = await cli('key', 'revoke', '--id', adminId);
  expect(revoked.code).toBe(0);
  expect(JSON.parse(revoked.stdout)).toMatchObject({ id: adminId, organizationId: org.id, revokedAt: expect.any(String) });
  expect((await stack.api('GET', '/v1/webhooks', org.apiKey)).status).toBe(401);

  const created = await cli('key', 'create', '--org', org.id, '--kind', 'admin', '--name', 'replacement');
  expect(JSON.parse(created.stdout)).toMatchObject({ id: expect.stringMatching(/^key_/), key: expect.stringMatching(/^ck_admin_/) });
  expect((await stack.api('GET', '/v1/webhooks', JSON.parse(created.stdout).key)).status).toBe(200);

  const unknown = await cli('key', 'revoke', '--id', 'key_nope');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('no key with id "key_nope"');
  const noOrg = await cli('key', 'list');
  expect(noOrg.code).toBe(2);
  expect(noOrg.stderr).toContain('--org is required');
});

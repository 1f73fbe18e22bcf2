/**
 * Outbound safety (SSRF): with private targets disallowed, loopback, private, link-local, metadata and
 * IPv4-mapped addresses, and names resolving to them, are refused before a single byte is sent. Raw TCP
 * listeners on loopback count connections: a refusal must leave them at zero.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { sendWebhookRequest, SendResult } from '../src/delivery/http-sender';
import type { OutboundPolicy } from '../src/delivery/address-guard';
import { newId } from '../src/domain/ids';
import { createStack, Stack, Org } from './support/stack';
import { waitFor } from './support/wait';

const PRODUCTION: OutboundPolicy = { allowPrivateTargets: false, requireHttps: true };
const NO_PRIVATE_HTTP_OK: OutboundPolicy = { allowPrivateTargets: false, requireHttps: false };
const DEVELOPMENT: OutboundPolicy = { allowPrivateTargets: true, requireHttps: false };

/** A raw TCP listener that counts connections and bytes, and answers anything with a 200. */
class TcpCounter {
  connections = 0;
  bytes = 0;
  private servers: net.Server[] = [];
  port = 0;
  ipv6 = false;

  async start(): Promise<this> {
    const v4 = await this.listen('127.0.0.1', 0);
    this.port = (v4.address() as AddressInfo).port;
    // The same port on ::1 when this machine has IPv6 loopback, so [::1] targets are counted too.
    this.ipv6 = await this.listen('::1', this.port).then(() => true, () => false);
    return this;
  }

  private listen(host: string, port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        this.connections++;
        socket.on('data', (chunk) => {
          this.bytes += chunk.length;
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        });
        socket.on('error', () => undefined);
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        this.servers.push(server);
        resolve(server);
      });
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

const send = (url: string, policy: OutboundPolicy): Promise<SendResult> =>
  sendWebhookRequest({ url, headers: { 'Content-Type': 'application/json' }, body: '{"id":"evt_x","event":"ping"}' }, { policy, timeoutMs: 5000 });

let counter: TcpCounter;
beforeAll(async () => {
  counter = await new TcpCounter().start();
});
afterAll(async () => counter?.stop());

describe('sendWebhookRequest with private targets disallowed', () => {
  const privateUrls = (port: number) => [
    `http://127.0.0.1:${port}/hook`,
    `https://127.0.0.1:${port}/hook`,
    `http://[::1]:${port}/hook`,
    `https://[::1]:${port}/hook`,
    `http://169.254.169.254/latest/meta-data/`,
    `https://169.254.169.254/latest/meta-data/`,
    `http://10.0.0.1/hook`,
    `https://10.0.0.1/hook`,
    `http://[::ffff:127.0.0.1]:${port}/hook`,
    `https://[::ffff:127.0.0.1]:${port}/hook`,
    `http://localhost:${port}/hook`,
    `https://localhost:${port}/hook`,
  ];

  it.each([
    ['production (https only)', PRODUCTION],
    ['plain http allowed', NO_PRIVATE_HTTP_OK],
  ])('refuses every private target without connecting: %s', async (_name, policy) => {
    for (const url of privateUrls(counter.port)) {
      const result = await send(url, policy);
      expect({ url, status: result.status, succeeded: result.succeeded, error: result.error }).toEqual({
        url,
        status: null,
        succeeded: false,
        error: expect.stringMatching(/^Blocked: /),
      });
    }
    expect(counter.connections).toBe(0);
    expect(counter.bytes).toBe(0);
  });

  it('names the reason: https required, a non-public literal, a name resolving to a private address', async () => {
    expect((await send(`http://127.0.0.1:${counter.port}/`, PRODUCTION)).error).toBe('Blocked: Destination 127.0.0.1 must use https');
    expect((await send(`https://169.254.169.254/`, PRODUCTION)).error).toBe('Blocked: Destination 169.254.169.254 is not a public address');
    expect((await send(`https://[::ffff:127.0.0.1]:${counter.port}/`, PRODUCTION)).error).toMatch(/^Blocked: Destination \[::ffff:7f00:1\] is not a public address$/);
    // A hostname is judged on what it resolves to, at connect time.
    expect((await send(`https://localhost:${counter.port}/`, PRODUCTION)).error).toMatch(/^Blocked: Destination localhost resolves to non-public address (127\.0\.0\.1|::1)$/);
    expect(counter.connections).toBe(0);
  });

  it('the counter does count: the same loopback targets are reached when private targets are allowed', async () => {
    const result = await send(`http://127.0.0.1:${counter.port}/hook`, DEVELOPMENT);
    expect(result).toMatchObject({ status: 200, succeeded: true, error: null });
    expect(await send(`http://localhost:${counter.port}/hook`, DEVELOPMENT)).toMatchObject({ status: 200, succeeded: true });
    expect(counter.connections).toBe(2);
    expect(counter.bytes).toBeGreaterThan(0);
    counter.connections = 0;
    counter.bytes = 0;
  });
});

describe('the system with ALLOW_PRIVATE_TARGETS=false', () => {
  let stack: Stack;
  let org: Org;

  beforeAll(async () => {
    stack = await createStack({ env: { ALLOW_PRIVATE_TARGETS: 'false' } });
    org = await stack.createOrg();
  });
  afterAll(async () => stack?.close());
  beforeEach(() => {
    counter.connections = 0;
    counter.bytes = 0;
  });

  const count = async (table: string) => Number((await stack.db(table).count<{ count: string }[]>('* as count'))[0].count);

  it('refuses to create (400 naming body.url) or update a webhook to a private target, storing nothing', async () => {
    const urls = [
      `http://127.0.0.1:${counter.port}/hook`,
      `http://[::1]:${counter.port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      `http://[::ffff:127.0.0.1]:${counter.port}/hook`,
      `http://localhost:${counter.port}/hook`,
      `https://localhost:${counter.port}/hook`,
    ];
    const before = { webhooks: await count('webhooks'), events: await count('events'), deliveries: await count('deliveries') };
    for (const url of urls) {
      const res = await stack.api('POST', '/v1/webhooks', org.apiKey, { url, events: ['secret.created'] });
      expect({ url, status: res.status, contentType: res.contentType }).toEqual({ url, status: 400, contentType: expect.stringContaining('application/problem+json') });
      expect(res.body.errors).toEqual([{ field: 'body.url', message: expect.stringMatching(/not a public address|resolves to non-public address/) }]);
    }
    expect({ webhooks: await count('webhooks'), events: await count('events'), deliveries: await count('deliveries') }).toEqual(before);
    expect(counter.connections).toBe(0);
  });

  it('refuses a PATCH to a private URL and leaves the webhook as it was', async () => {
    // A name that does not resolve is let through (the connect-time guard decides); its ping fails, which does not matter.
    const created = await stack.api('POST', '/v1/webhooks', org.apiKey, { url: 'http://cloudkeep-test.invalid/hook', events: ['secret.created'] });
    expect(created.status).toBe(201);
    const row = await stack.db('webhooks').where({ id: created.body.id }).first();
    const res = await stack.api('PATCH', `/v1/webhooks/${created.body.id}`, org.apiKey, { url: `http://localhost:${counter.port}/x`, description: 'moved' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body.url', message: expect.stringMatching(/localhost resolves to non-public address/) }]);
    const after = await stack.db('webhooks').where({ id: created.body.id }).first();
    expect(after.target_ciphertext).toBe(row.target_ciphertext);
    expect(after.description).toBeNull();
  });

  it('a stored target that now resolves to a private address (DNS rebinding) is refused by the worker at connect time', async () => {
    // As if the name had resolved publicly when the webhook was created.
    const id = newId('wh');
    await stack.db('webhooks').insert({
      id,
      organization_id: org.id,
      destination: 'generic',
      display_url: `http://localhost:${counter.port}/hook`,
      target_ciphertext: stack.secretBox.seal(`http://localhost:${counter.port}/hook`),
      secret_ciphertext: stack.secretBox.seal('whsec_rebinding_test_secret_0123456789'),
      events: JSON.stringify(['secret.created']),
      status: 'active',
    });
    const res = await stack.api('POST', `/v1/webhooks/${id}/test`, org.apiKey);
    expect(res.status).toBe(202);
    const attempt = await waitFor(() => stack.db('delivery_attempts').where({ delivery_id: res.body.deliveryId }).whereNotNull('succeeded').first(), 'the blocked attempt');
    expect(attempt).toMatchObject({ succeeded: false, response_status: null, error: expect.stringMatching(/^Blocked: Destination localhost resolves to non-public address/) });
    const delivery = await stack.api('GET', `/v1/deliveries/${res.body.deliveryId}`, org.apiKey);
    expect(delivery.body).toMatchObject({ status: 'retrying', lastError: attempt.error });
    expect(counter.connections).toBe(0);
    expect(counter.bytes).toBe(0);
  });
});

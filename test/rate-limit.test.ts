/**
 * Admin and ingest routes are rate limited per API key: one runaway key slows down, the others carry on.
 */
import { createStack, Stack } from './support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
});
afterAll(async () => stack?.close());

it('answers 429 problem+json past the limit for one key, and not for another', async () => {
  const noisy = await stack.createOrg('Noisy');
  const quiet = await stack.createOrg('Quiet');
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await stack.api('GET', '/v1/webhooks', noisy.apiKey)).status);
  expect(statuses).toEqual([200, 200, 200, 429]);

  const limited = await stack.api('GET', '/v1/webhooks', noisy.apiKey);
  expect(limited.status).toBe(429);
  expect(limited.contentType).toContain('application/problem+json');
  expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests' });

  expect((await stack.api('GET', '/v1/webhooks', quiet.apiKey)).status).toBe(200);
  // Operations endpoints are not limited.
  for (let i = 0; i < 5; i++) expect((await stack.api('GET', '/healthz', null)).status).toBe(200);
});

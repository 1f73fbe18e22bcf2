import { AgentPool } from './agent-pool';

const policy = { allowPrivateTargets: true, requireHttps: false };

it('gives one agent per origin and policy', () => {
  const pool = new AgentPool();
  const a = pool.agentFor(new URL('http://a.test/x'), policy);
  expect(pool.agentFor(new URL('http://a.test/other?q=1'), policy)).toBe(a);
  expect(pool.agentFor(new URL('http://a.test:8080/x'), policy)).not.toBe(a);
  expect(pool.agentFor(new URL('https://a.test/x'), policy)).not.toBe(a);
  expect(pool.agentFor(new URL('http://a.test/x'), { ...policy, allowPrivateTargets: false })).not.toBe(a);
  pool.destroy();
});

it('closes the least recently used origin past its bound', () => {
  const pool = new AgentPool(2);
  const a = pool.agentFor(new URL('http://a.test/'), policy);
  const b = pool.agentFor(new URL('http://b.test/'), policy);
  pool.agentFor(new URL('http://a.test/'), policy); // a is now the most recent
  pool.agentFor(new URL('http://c.test/'), policy); // evicts b
  expect(pool.size).toBe(2);
  expect(pool.agentFor(new URL('http://a.test/'), policy)).toBe(a);
  expect(pool.agentFor(new URL('http://b.test/'), policy)).not.toBe(b);
  pool.destroy();
});

import http from 'node:http';
import https from 'node:https';
import { guardedLookup, OutboundPolicy } from './address-guard';

/**
 * Keep-alive agents, one per origin and outbound policy: a busy endpoint reuses its connections instead of paying
 * a TCP (and TLS) handshake per delivery. Every new connection still goes through the guarded lookup, so a name
 * that re-resolves to a private address is refused when it is dialled. Bounded: the least recently used origin's
 * agent is closed past `maxOrigins`.
 */
/**
 * Connections open at once to one origin. A bound on our sockets, not a courtesy to the receiver (a webhook's
 * `rateLimit` is that): at 64, four webhooks on one host answering in 2 s could get 32 deliveries/s at most.
 */
export const MAX_SOCKETS_PER_ORIGIN = 256;

export class AgentPool {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly maxOrigins = 500) {}

  agentFor(url: URL, policy: OutboundPolicy): http.Agent {
    const key = `${url.protocol}//${url.host}|${policy.allowPrivateTargets ? 'private' : 'public'}`;
    let agent = this.agents.get(key);
    if (agent) {
      this.agents.delete(key); // re-inserted below: Map order is recency order
    } else {
      const options = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_ORIGIN, maxFreeSockets: 16, timeout: 30_000, scheduling: 'lifo' as const, lookup: guardedLookup(policy) };
      agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    }
    this.agents.set(key, agent);
    while (this.agents.size > this.maxOrigins) {
      const [oldest, old] = this.agents.entries().next().value!;
      this.agents.delete(oldest);
      old.destroy();
    }
    return agent;
  }

  get size(): number {
    return this.agents.size;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

import type { Request } from 'express';
import ipaddr from 'ipaddr.js';
import type { Knex } from 'knex';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../errors';
import type { Logger } from '../logger';
import type { Principal } from './auth';
import type { Access } from './auth';
import { SharedLimit, windowFor } from './shared-limit';

export interface RateLimitSettings {
  /** Admin API requests per key per minute. */
  adminPerMinute: number;
  /** Ingest: sustained events per second per service token, and the burst it may send at once. */
  ingestPerSecond: number;
  ingestBurst: number;
  /** Failed authentications per client address per minute before 429. */
  authFailuresPerMinute: number;
}

/** A client's address; IPv6 by its /64, which one client usually holds whole. */
export function clientAddress(req: Request): string {
  const raw = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  if (!ipaddr.isValid(raw)) return raw;
  const address = ipaddr.process(raw);
  if (address.kind() === 'ipv4') return address.toString();
  return (address as ipaddr.IPv6).toNormalizedString().split(':').slice(0, 4).join(':') + '::/64';
}

/**
 * The API's three limits, counted in PostgreSQL so that every API process shares them (shared-limit.ts). Keys are
 * counted by their id after authentication, so spelling the Authorization header differently does not start a new
 * count; ingest has its own, larger budget.
 */
export function createRateLimits(settings: RateLimitSettings, deps: { db: Knex; logger: Logger }) {
  const admin = new SharedLimit({ ...deps, name: 'admin', limit: { points: settings.adminPerMinute, windowSeconds: 60 } });
  const ingest = new SharedLimit({ ...deps, name: 'ingest', limit: windowFor(settings.ingestBurst, settings.ingestPerSecond) });
  const failures = new SharedLimit({ ...deps, name: 'auth-failures', limit: { points: settings.authFailuresPerMinute, windowSeconds: 60 } });

  return {
    /**
     * Wraps an authenticator: each refused credential counts against the client address; once it is spent, 429
     * instead. Refused means a missing or unknown key (401) and a valid key of the wrong kind (403: the admin key on
     * ingest, the service token on admin routes), which would otherwise be answered for ever at no cost.
     */
    guardAuthentication<A extends (req: Request, access: Access) => Promise<Principal>>(authenticate: A) {
      return async (req: Request, access: Access): Promise<Principal> => {
        try {
          return await authenticate(req, access);
        } catch (err) {
          if (err instanceof UnauthorizedError || err instanceof ForbiddenError) {
            const taken = await failures.take(clientAddress(req));
            if (!taken.allowed) throw new RateLimitedError('Too many failed authentications from this address; retry after the Retry-After delay', taken.retryAfterSeconds);
          }
          throw err;
        }
      };
    },

    /** Counts an authenticated request against its key's budget (or its address's, without a key). */
    async admit(req: Request, access: Access, principal: Principal | null): Promise<void> {
      const [limit, key, what] =
        access === 'service' && principal
          ? [ingest, principal.keyId, 'this ingest token']
          : principal
            ? [admin, principal.keyId, 'this API key']
            : [admin, `address:${clientAddress(req)}`, 'this address'];
      const taken = await limit.take(key);
      if (!taken.allowed) throw new RateLimitedError(`Too many requests for ${what}; slow down and retry after the Retry-After delay`, taken.retryAfterSeconds);
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

import type { Knex } from 'knex';
import { organizationsStore } from '../db/stores/organizations';

/** How long a weight read from PostgreSQL is used before it is read again: a plan change applies within this. */
export const FAIRNESS_WEIGHT_TTL_MS = 60_000;

/**
 * Each organization's fairness weight, read from PostgreSQL at most once a minute per process: a start must not
 * pay a query for a number that changes with a plan. A read that fails gives the default weight, never a failed
 * start — a weight only orders work under load.
 */
export class FairnessWeights {
  private readonly cache = new Map<string, { weight: number; until: number }>();

  constructor(private readonly db: Knex) {}

  async of(organizationId: string): Promise<number> {
    const cached = this.cache.get(organizationId);
    if (cached && cached.until > Date.now()) return cached.weight;
    let weight: number;
    try {
      weight = (await organizationsStore.fairnessWeight(this.db, organizationId)) ?? 1;
    } catch {
      return 1; // not cached: the next start reads it again
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(organizationId, { weight, until: Date.now() + FAIRNESS_WEIGHT_TTL_MS });
    return weight;
  }
}

const perDb = new WeakMap<Knex, FairnessWeights>();

/** One cache per database handle, shared by every start path of the process. */
export function fairnessWeightsFor(db: Knex): FairnessWeights {
  let weights = perDb.get(db);
  if (!weights) perDb.set(db, (weights = new FairnessWeights(db)));
  return weights;
}

import type { Db } from '../knex';

export interface OrganizationRow {
  id: string;
  name: string;
  notification_email: string;
  /** The organization's share of the delivery task queue under load (Temporal fairness weight, default 1). */
  fairness_weight: number;
  created_at: Date;
}

export const organizationsStore = {
  async insert(db: Db, row: Pick<OrganizationRow, 'id' | 'name' | 'notification_email'>): Promise<OrganizationRow> {
    const [created] = await db<OrganizationRow>('organizations').insert(row).returning('*');
    return created;
  },
  async get(db: Db, id: string): Promise<OrganizationRow | undefined> {
    return db<OrganizationRow>('organizations').where({ id }).first();
  },
  /** The organization's fairness weight, or undefined when there is no such organization. */
  async fairnessWeight(db: Db, id: string): Promise<number | undefined> {
    return (await db<OrganizationRow>('organizations').where({ id }).first('fairness_weight'))?.fairness_weight;
  },
  /** Returns whether the organization exists. */
  async setFairnessWeight(db: Db, id: string, weight: number): Promise<boolean> {
    return (await db<OrganizationRow>('organizations').where({ id }).update({ fairness_weight: weight })) === 1;
  },
};

import type { Db } from '../knex';

export interface OrganizationRow {
  id: string;
  name: string;
  notification_email: string;
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
};

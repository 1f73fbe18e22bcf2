import type { Db } from '../knex';
import { PreparedStatement } from '../prepared';
import { Keyed, KeysetPosition, newestFirst } from '../keyset';

export type Destination = 'generic' | 'slack' | 'discord';
export type WebhookStatus = 'pending' | 'active' | 'inactive' | 'disabled';

export interface WebhookRow {
  id: string;
  organization_id: string;
  destination: Destination;
  display_url: string;
  target_ciphertext: string;
  secret_ciphertext: string;
  events: string[];
  vault_ids: string[] | null;
  description: string | null;
  slack_channel: string | null;
  status: WebhookStatus;
  status_reason: string | null;
  status_changed_at: Date;
  disabled_email_sent_at: Date | null;
  last_failure_at: Date | null;
  last_success_at: Date | null;
  standard_webhooks: boolean;
  /** How long the last attempt to this webhook took (ms): a slow endpoint's attempts run as regular activities. */
  last_duration_ms: number | null;
  /** Deliveries per second; null = unlimited. */
  rate_limit: number | null;
  /** The pacing reservation: when the next delivery may go out (see reserveSlot in delivery-attempts). */
  next_send_at: Date | null;
  /** When the latest send under the rate limit was let go (see reserveSendTime in delivery-attempts). */
  send_gate_at: Date | null;
  warning_email_sent_for: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export type NewWebhookRow = Pick<
  WebhookRow,
  'id' | 'organization_id' | 'destination' | 'display_url' | 'target_ciphertext' | 'secret_ciphertext' | 'events' | 'vault_ids' | 'description' | 'slack_channel' | 'status'
> &
  Partial<Pick<WebhookRow, 'standard_webhooks' | 'rate_limit'>>;

/** jsonb columns are written as JSON text: pg would send a JS array as a Postgres array. */
function toColumns<T extends Partial<WebhookRow>>(row: T): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  if (row.events !== undefined) out.events = JSON.stringify(row.events);
  if (row.vault_ids !== undefined) out.vault_ids = row.vault_ids === null ? null : JSON.stringify(row.vault_ids);
  return out;
}

/** Events are delivered to pending and active webhooks; the others keep them as `skipped` deliveries. */
export const isDeliverable = (w: Pick<WebhookRow, 'status'>): boolean => w.status === 'pending' || w.status === 'active';

const FIND_SUBSCRIBERS = new PreparedStatement(
  'find-subscribers',
  `SELECT id, status FROM webhooks
    WHERE deleted_at IS NULL AND organization_id = ? AND events @> ?::jsonb
      AND (vault_ids IS NULL OR vault_ids @> ?::jsonb)`,
);

const live = (db: Db) => db<WebhookRow>('webhooks').whereNull('deleted_at');

/** A webhook with a value not sealed under the current key (bound twice to its sealed prefix). */
const SEALED_OTHERWISE = 'NOT (starts_with(target_ciphertext, ?) AND starts_with(secret_ciphertext, ?))';

export const webhooksStore = {
  async insert(db: Db, row: NewWebhookRow): Promise<WebhookRow> {
    const [created] = await db('webhooks').insert(toColumns(row)).returning('*');
    return created;
  },

  /** A live webhook of the organization; another organization's id reads as absent. */
  async get(db: Db, organizationId: string, id: string): Promise<WebhookRow | undefined> {
    return live(db).where({ id, organization_id: organizationId }).first();
  },

  /** By id alone, deleted ones included: for workers acting on a delivery's own webhook. */
  async getAny(db: Db, id: string): Promise<WebhookRow | undefined> {
    return db<WebhookRow>('webhooks').where({ id }).first();
  },

  async getForUpdate(db: Db, organizationId: string, id: string): Promise<WebhookRow | undefined> {
    return live(db).where({ id, organization_id: organizationId }).forUpdate().first();
  },

  /** Newest first; the cursor is the last row's (created_at, id). */
  async list(db: Db, organizationId: string, limit: number, after?: KeysetPosition): Promise<Keyed<WebhookRow>[]> {
    const q = live(db).where({ organization_id: organizationId });
    return newestFirst(db, q, limit, after);
  },

  /**
   * Webhooks subscribed to an event (in the vault filter), whatever their status: pending and active ones
   * receive it, inactive and disabled ones keep it as a skipped delivery (see isDeliverable). Runs on every ingest.
   */
  async findSubscribers(db: Db, organizationId: string, eventType: string, vaultId: string | undefined): Promise<Pick<WebhookRow, 'id' | 'status'>[]> {
    // Only what ingest uses: the rest of the row (ciphertexts, JSON columns) would be parsed for nothing.
    return FIND_SUBSCRIBERS.run<Pick<WebhookRow, 'id' | 'status'>>(db, [organizationId, JSON.stringify([eventType]), vaultId === undefined ? null : JSON.stringify([vaultId])]);
  },

  async update(db: Db, id: string, changes: Partial<WebhookRow>): Promise<WebhookRow | undefined> {
    const [row] = await db('webhooks')
      .where({ id })
      .update({ ...toColumns(changes), updated_at: db.fn.now() })
      .returning('*');
    return row;
  },

  /** Moves status only from one of `from`: a guarded transition, so concurrent outcomes cannot undo a disable. */
  async transition(db: Db, id: string, from: WebhookStatus[], to: WebhookStatus, reason: string | null): Promise<WebhookRow | undefined> {
    const [row] = await db('webhooks')
      .where({ id })
      .whereNull('deleted_at')
      .whereIn('status', from)
      .update({ status: to, status_reason: reason, status_changed_at: db.fn.now(), updated_at: db.fn.now() })
      .returning('*');
    return row;
  },


  async softDelete(db: Db, organizationId: string, id: string): Promise<WebhookRow | undefined> {
    const [row] = await live(db).where({ id, organization_id: organizationId }).update({ deleted_at: db.fn.now() }).returning('*');
    return row;
  },

  /**
   * Key rotation: webhooks (deleted ones included) with a value not sealed under the current key, i.e. not starting
   * with `sealedPrefix`; in id order after `afterId`, for a keyset walk in batches.
   */
  async listSealedOtherwise(db: Db, sealedPrefix: string, afterId: string, limit: number): Promise<SealedValues[]> {
    return db<WebhookRow>('webhooks')
      .select('id', 'target_ciphertext', 'secret_ciphertext')
      .where('id', '>', afterId)
      .whereRaw(SEALED_OTHERWISE, [sealedPrefix, sealedPrefix])
      .orderBy('id')
      .limit(limit);
  },

  async countSealedOtherwise(db: Db, sealedPrefix: string): Promise<number> {
    const [{ count }] = await db('webhooks').whereRaw(SEALED_OTHERWISE, [sealedPrefix, sealedPrefix]).count<{ count: string }[]>('* as count');
    return Number(count);
  },

  /**
   * Replaces each row's sealed values only where they are still the ones read (a conditional update, no lock held
   * between the read and the write): a webhook edited in between keeps its edit. Returns the ids replaced.
   * `updated_at` stays: the webhook did not change, only how it is stored.
   */
  async replaceSealedValues(db: Db, rows: { before: SealedValues; after: Omit<SealedValues, 'id'> }[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const column = (pick: (r: (typeof rows)[number]) => string) => rows.map(pick);
    const { rows: replaced } = await db.raw<{ rows: { id: string }[] }>(
      `UPDATE webhooks w
          SET target_ciphertext = v.new_target, secret_ciphertext = v.new_secret
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS v(id, old_target, old_secret, new_target, new_secret)
        WHERE w.id = v.id AND w.target_ciphertext = v.old_target AND w.secret_ciphertext = v.old_secret
        RETURNING w.id`,
      [
        column((r) => r.before.id),
        column((r) => r.before.target_ciphertext),
        column((r) => r.before.secret_ciphertext),
        column((r) => r.after.target_ciphertext),
        column((r) => r.after.secret_ciphertext),
      ],
    );
    return replaced.map((r) => r.id);
  },
};

export type SealedValues = Pick<WebhookRow, 'id' | 'target_ciphertext' | 'secret_ciphertext'>;

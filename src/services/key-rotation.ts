import type { Knex } from 'knex';
import type { SecretBox } from '../domain/secret-box';
import { SealedValues, webhooksStore } from '../db/stores/webhooks';

export const DEFAULT_REENCRYPT_BATCH_SIZE = 500;
export const MAX_REENCRYPT_BATCH_SIZE = 10_000;
/** Walks after the first happen only when a live edit raced a batch; each one re-reads just what is left. */
const MAX_PASSES = 5;

/** What `npm run cli -- keys re-encrypt` prints: counts and ids, never a value. */
export interface ReEncryptReport {
  /** The key everything is now sealed under (SECRET_ENCRYPTION_KEY's id). */
  keyId: string;
  batchSize: number;
  batches: number;
  /** Webhooks that had a value under another key (or in the v1 format) when read. */
  examined: number;
  reEncrypted: number;
  /** Read, then edited by a running process before the batch was written: left as that process wrote them, then read again. */
  changedConcurrently: number;
  /** No key of the ring opens them: left untouched. Their deliveries fail until the key that sealed them is listed again. */
  undecryptable: { count: number; webhookIds: string[] };
  /** Webhooks still not under the current key when the command ended (0 when done; else the undecryptable ones). */
  remaining: number;
}

export interface ReEncryptOptions {
  batchSize?: number;
  /** Tests: runs after a batch is read and before it is written, where a live edit could land. */
  afterBatchRead?: (ids: string[]) => Promise<void>;
}

/**
 * Re-seals every webhook's URL and secret under the current key, in batches (bounded reads and writes), so the
 * previous key can then be dropped from SECRET_DECRYPTION_KEYS. Safe while the service runs: each batch is written
 * with a conditional update, so a webhook edited between the read and the write keeps the edit (already sealed under
 * the current key by a process configured like this one). Idempotent: what is under the current key is not read.
 */
export async function reEncryptSecrets(db: Knex, box: SecretBox, options: ReEncryptOptions = {}): Promise<ReEncryptReport> {
  const batchSize = options.batchSize ?? DEFAULT_REENCRYPT_BATCH_SIZE;
  const prefix = box.currentPrefix;
  const report: ReEncryptReport = { keyId: box.keyId, batchSize, batches: 0, examined: 0, reEncrypted: 0, changedConcurrently: 0, undecryptable: { count: 0, webhookIds: [] }, remaining: 0 };
  const undecryptable = new Set<string>();
  const examined = new Set<string>();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let raced = 0;
    let after = '';
    for (;;) {
      const rows = await webhooksStore.listSealedOtherwise(db, prefix, after, batchSize);
      if (rows.length === 0) break;
      report.batches++;
      after = rows[rows.length - 1]!.id;
      await options.afterBatchRead?.(rows.map((r) => r.id));
      const updates: { before: SealedValues; after: Omit<SealedValues, 'id'> }[] = [];
      for (const row of rows) {
        examined.add(row.id);
        try {
          updates.push({ before: row, after: { target_ciphertext: box.reseal(row.target_ciphertext), secret_ciphertext: box.reseal(row.secret_ciphertext) } });
          undecryptable.delete(row.id);
        } catch {
          undecryptable.add(row.id);
        }
      }
      const replaced = await webhooksStore.replaceSealedValues(db, updates);
      report.reEncrypted += replaced.length;
      raced += updates.length - replaced.length;
    }
    report.changedConcurrently += raced;
    if (raced === 0) break;
  }
  report.examined = examined.size;
  report.undecryptable = { count: undecryptable.size, webhookIds: [...undecryptable].sort() };
  report.remaining = await webhooksStore.countSealedOtherwise(db, prefix);
  return report;
}

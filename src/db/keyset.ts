import type { Knex } from 'knex';
import type { Db } from './knex';

/** Where a page ends: the last row's created_at, at PostgreSQL's microsecond precision, and its id. */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

/** A listed row with its cursor position (`cursor_at`: created_at with six fractional digits). */
export type Keyed<T> = T & { cursor_at: string };

/**
 * Newest first on (created_at, id), after `after`. Each row also carries `cursor_at`, its created_at as text with
 * all six fractional digits: a JavaScript Date keeps milliseconds, and a cursor built from one would skip the rows
 * created later within the same millisecond (a burst's deliveries often are).
 */
export async function newestFirst<T extends object>(db: Db, q: Knex.QueryBuilder<T>, limit: number, after?: KeysetPosition): Promise<Keyed<T>[]> {
  q.select('*', db.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`));
  if (after) q.whereRaw('(created_at, id) < (?::timestamptz, ?)', [after.createdAt, after.id]);
  return (await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit)) as Keyed<T>[];
}

/**
 * Generated ingest requests (fast-check) with what the API must answer to each, worked out independently of the
 * code under test: timestamps from their parts (years 0000–9999 and beyond, offsets up to ±23:59 and past them,
 * fractional seconds, leap days, other spellings), ids, vault ids and each event type's data (unicode, strings at
 * and past their limits), plus at most one deliberate defect in the data or the envelope. Used by
 * test/generated-ingest.test.ts against the real stack.
 */
import fc from 'fast-check';
import { SUBSCRIBABLE_EVENT_TYPES, SubscribableEventType } from '../../src/domain/events';

/** The vault ids the suite's vault-filtered webhook subscribes to: an ASCII one, a unicode one and a 128-character one. */
export const FILTERED_VAULTS = ['vlt_filtered', 'vlt_Ünïcödé_金庫_🔐', `vlt_${'x'.repeat(124)}`] as const;

// ---------- timestamps

/** A generated `timestamp`: the JSON value sent (undefined: left out) and when it is, if the API must accept it. */
export interface TimestampCase {
  value?: unknown;
  /**
   * `valid`: RFC 3339 within the years 0001–9999 once in UTC, must be accepted as `utcMs`; `invalid`: must be
   * refused naming body.timestamp; `either`: a real instant in another ISO 8601 spelling (lower-case `t`, a space,
   * `+hhmm`), refused or accepted as `utcMs` but never read as another time; `absent`: defaults to now.
   */
  verdict: 'valid' | 'invalid' | 'either' | 'absent';
  utcMs?: number;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
const pad = (n: number, width: number) => String(n).padStart(width, '0');

interface TimestampParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Digits after the decimal point, or null for none. */
  fraction: string | null;
  /** null: `Z`. */
  offset: { sign: '+' | '-'; hours: number; minutes: number } | null;
  spelling: 'rfc3339' | 'lower-case' | 'space' | 'basic-offset';
}

/** The instant the parts name (epoch ms, fraction truncated to ms), with no year mapping of Date.UTC's 0–99. */
function instantOf(p: TimestampParts): number {
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day);
  d.setUTCHours(p.hour, p.minute, p.second, p.fraction ? Number(p.fraction.padEnd(3, '0').slice(0, 3)) : 0);
  const offsetMinutes = p.offset ? (p.offset.sign === '+' ? 1 : -1) * (p.offset.hours * 60 + p.offset.minutes) : 0;
  return d.getTime() - offsetMinutes * 60_000;
}

function spell(p: TimestampParts): string {
  const year = p.year >= 0 && p.year <= 9999 ? pad(p.year, 4) : `${p.year < 0 ? '-' : '+'}${pad(Math.abs(p.year), 6)}`;
  const date = `${year}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
  const time = `${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction === null ? '' : `.${p.fraction}`}`;
  const colon = p.spelling === 'basic-offset' ? '' : ':';
  const zone = p.offset ? `${p.offset.sign}${pad(p.offset.hours, 2)}${colon}${pad(p.offset.minutes, 2)}` : 'Z';
  const text = `${date}${p.spelling === 'space' ? ' ' : 'T'}${time}${zone}`;
  return p.spelling === 'lower-case' ? text.toLowerCase() : text;
}

/** What the API must do with a timestamp spelled from these parts. */
export function judgeTimestamp(p: TimestampParts): TimestampCase {
  const value = spell(p);
  const realParts =
    p.year >= 0 && p.year <= 9999 && p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysIn(p.year, p.month) &&
    p.hour <= 23 && p.minute <= 59 && p.second <= 59 && (!p.offset || (p.offset.hours <= 23 && p.offset.minutes <= 59));
  if (!realParts) return { value, verdict: 'invalid' };
  const utcMs = instantOf(p);
  const utcYear = new Date(utcMs).getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return { value, verdict: 'invalid' };
  return { value, verdict: p.spelling === 'rfc3339' ? 'valid' : 'either', utcMs };
}

/** Mostly `valid`, now and then `edge` (within range, at its ends), seldom `out` (past them). */
const part = (valid: fc.Arbitrary<number>, edge: number[], out: number[]) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: fc.constantFrom(...edge), weight: 6 }, { arbitrary: fc.constantFrom(...out), weight: 1 });

const timestampParts: fc.Arbitrary<TimestampParts> = fc.record({
  year: part(fc.integer({ min: 0, max: 9999 }), [0, 1, 2, 1900, 1970, 2000, 2024, 2100, 9998, 9999], [-1, 10000, 275760]),
  month: part(fc.integer({ min: 1, max: 12 }), [1, 2, 2, 12], [0, 13]),
  // 29–31: leap days, and days some months do not have.
  day: part(fc.integer({ min: 1, max: 28 }), [1, 29, 30, 31], [0, 32]),
  hour: part(fc.integer({ min: 0, max: 23 }), [0, 23], [24]),
  minute: part(fc.integer({ min: 0, max: 59 }), [0, 59], [60]),
  second: part(fc.integer({ min: 0, max: 59 }), [0, 59], [60]),
  fraction: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 12 }), { freq: 2 }),
  offset: fc.option(
    fc.record({
      sign: fc.constantFrom('+' as const, '-' as const),
      hours: part(fc.integer({ min: 0, max: 23 }), [0, 14, 23], [24, 99]),
      minutes: part(fc.integer({ min: 0, max: 59 }), [0, 30, 59], [60]),
    }),
    { freq: 3 },
  ),
  spelling: fc.oneof(
    { arbitrary: fc.constant('rfc3339' as const), weight: 12 },
    { arbitrary: fc.constantFrom('lower-case' as const, 'space' as const, 'basic-offset' as const), weight: 1 },
  ),
});

/** Strings that are no time at all, or times JavaScript reads but RFC 3339 does not write. */
const NOT_TIMES = [
  '', 'yesterday', 'now', '2026-01-01', '2026-01-01T00:00:00', '2026-01-01T00:00Z', '2026-01-01T00:00:00.Z', '20260101T000000Z',
  '1e308', 'NaN', 'Infinity', '-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', '２０２６-01-01T00:00:00Z', '2026-01-01T00:00:00Z ',
  ' 2026-01-01T00:00:00Z', '2026-01-01T00:00:00+01', 'Thu, 01 Jan 2026 00:00:00 GMT', '1767225600000', '2026-W01-1T00:00:00Z',
];

export const timestampCase: fc.Arbitrary<TimestampCase> = fc.oneof(
  { arbitrary: timestampParts.map(judgeTimestamp), weight: 16 },
  { arbitrary: fc.constant<TimestampCase>({ verdict: 'absent' }), weight: 3 },
  { arbitrary: fc.constantFrom(...NOT_TIMES).map((value): TimestampCase => ({ value, verdict: 'invalid' })), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s) && !s.includes('\u0000')).map((value): TimestampCase => ({ value, verdict: 'invalid' })), weight: 1 },
  {
    arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({})).map((value): TimestampCase => ({ value, verdict: 'invalid' })),
    weight: 1,
  },
);

// ---------- ids

/** `valid`: `evt_` + stem, made unique per run by the test; the others must be refused naming body.id. */
export type IdCase = { kind: 'absent' } | { kind: 'valid'; stem: string } | { kind: 'invalid'; value: unknown };

const ID_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'];
export const idCase: fc.Arbitrary<IdCase> = fc.oneof(
  { arbitrary: fc.constant<IdCase>({ kind: 'absent' }), weight: 3 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 100 }).map((stem): IdCase => ({ kind: 'valid', stem })), weight: 6 },
  {
    arbitrary: fc
      .oneof(
        fc.constantFrom('evt_', 'event-1', `evt_${'a'.repeat(101)}`, 'evt_a.b', 'evt_a/b', 'evt_a b', 'EVT_abc', 'evt_ünï', 'evt_a\n', ' evt_a'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => `evt_${s}`).filter((s) => !/^evt_[A-Za-z0-9_-]{1,100}$/.test(s) && !s.includes('\u0000')),
        fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(['evt_a'])),
      )
      .map((value): IdCase => ({ kind: 'invalid', value })),
    weight: 1,
  },
);

// ---------- data

/** A string field of an event's data and the schema's bounds on it, in code points (as zod counts). */
interface FieldRule {
  path: string[];
  min: number;
  max: number;
  required: boolean;
}

const id = (path: string[], required = true): FieldRule => ({ path, min: 1, max: 128, required });
const name = (path: string[], required = false): FieldRule => ({ path, min: 1, max: 10_000, required });
const actorRules = [id(['actor', 'id']), name(['actor', 'name']), { path: ['actor', 'email'], min: 0, max: 320, required: false }];
const vaultRules = [id(['vaultId']), name(['vaultName'])];

/** src/domain/events.ts's schemas, restated as rules the generator and the oracle share. */
export const FIELD_RULES: Record<'secret' | 'vault' | 'member', FieldRule[]> = {
  secret: [...vaultRules, id(['secretId']), name(['secretKey'], true), { path: ['type'], min: 1, max: 64, required: false }, ...actorRules],
  vault: [...vaultRules, ...actorRules],
  member: [
    ...vaultRules,
    id(['member', 'id']),
    name(['member', 'name']),
    { path: ['member', 'email'], min: 0, max: 320, required: false },
    { path: ['member', 'role'], min: 0, max: 64, required: false },
    ...actorRules,
  ],
};
const familyOf = (event: SubscribableEventType) => event.split('.')[0] as keyof typeof FIELD_RULES;
/** The objects inside data that are optional (present or not as a whole). */
const OPTIONAL_OBJECTS = new Set(['actor']);

/** Characters repeated to a field's limit: multi-byte, astral (two code units), combining, and ones JSON or markup escape. */
const FILL = ['a', 'é', '€', '金', '😀', 'e\u0301', '"', '\\', '<&>', '@everyone ', '*_`~|', '\u200b', '\n', '\u2028'];

/** Length in code points: an astral character (two UTF-16 units) counts once, as in zod's min and max. */
export const codePoints = (s: string) => [...s].length;
/** `ch` repeated to fill `max` code points (or the most whole repeats that fit). */
const fill = (ch: string, max: number) => ch.repeat(Math.floor(max / codePoints(ch)));

/** Text within [min, max] code points, without NUL: unicode of every kind, and strings at the limit. */
function text(min: number, max: number): fc.Arbitrary<string> {
  const short = Math.min(max, 40);
  return fc
    .oneof(
      { arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: short }), weight: 3 },
      { arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: short }), weight: 2 },
      { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: short }), weight: 2 },
      // At the limit (or just short of it, for a fill of several code points).
      { arbitrary: fc.constantFrom(...FILL).map((ch) => fill(ch, max)), weight: 1 },
    )
    .filter((s) => codePoints(s) >= min && codePoints(s) <= max && !s.includes('\u0000'));
}

/** Vault ids: the filtered ones, near misses of them (another Unicode normalization, another case) and any other. */
const vaultId: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...FILTERED_VAULTS), weight: 2 },
  { arbitrary: fc.constantFrom(FILTERED_VAULTS[1].normalize('NFD'), FILTERED_VAULTS[0].toUpperCase(), `${FILTERED_VAULTS[0]} `), weight: 1 },
  { arbitrary: text(1, 128), weight: 3 },
);

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let obj = target;
  for (const key of path.slice(0, -1)) obj = (obj[key] ??= {}) as Record<string, unknown>;
  obj[path[path.length - 1]] = value;
}

function getAt(target: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = target;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Valid data for an event type: every required field, optional ones or not, `actor` or not. */
function validData(event: SubscribableEventType): fc.Arbitrary<Record<string, unknown>> {
  const rules = FIELD_RULES[familyOf(event)];
  return fc
    .tuple(
      ...rules.map((rule) => (rule.path[0] === 'vaultId' ? vaultId : text(rule.min, rule.max)).map((v) => [rule, v] as const)),
      fc.boolean(),
      fc.array(fc.boolean(), { minLength: rules.length, maxLength: rules.length }),
    )
    .map((parts) => {
      const withActor = parts[rules.length] as boolean;
      const keepOptional = parts[rules.length + 1] as boolean[];
      const data: Record<string, unknown> = {};
      (parts.slice(0, rules.length) as (readonly [FieldRule, string])[]).forEach(([rule, value], i) => {
        if (OPTIONAL_OBJECTS.has(rule.path[0]) && !withActor) return;
        if (!rule.required && !keepOptional[i]) return;
        setAt(data, rule.path, value);
      });
      return data;
    });
}

/** One deliberate defect, with the field the answer must name (see expectedAnswer for which check finds it). */
export type Defect =
  | { kind: 'none' }
  /** A required field left out. */
  | { kind: 'missing'; path: string[] }
  /** A field the schema does not know, with any JSON value (nested objects and arrays included). */
  | { kind: 'unknown-field'; path: string[]; value: unknown }
  /** Not a string where one is due. */
  | { kind: 'wrong-type'; path: string[]; value: unknown }
  | { kind: 'too-long'; path: string[]; value: string }
  | { kind: 'empty'; path: string[] }
  /** A field named like a secret's value: 422. */
  | { kind: 'secret-value'; path: string[]; value: string }
  /** A NUL character (PostgreSQL cannot store it). */
  | { kind: 'nul'; path: string[]; value: string }
  /** An unpaired UTF-16 surrogate (valid JSON, `\ud800`, but no Unicode text: PostgreSQL cannot store it). */
  | { kind: 'lone-surrogate'; path: string[]; value: string }
  /** Nested deeper than the API reads (32 objects and arrays, the body and data included). */
  | { kind: 'too-deep'; path: string[]; value: unknown }
  /** A body over the API's 256 KiB. */
  | { kind: 'oversized'; path: string[]; value: string }
  /** The envelope: an unknown top-level field, a `data` that is no object, an event type nobody can subscribe to. */
  | { kind: 'envelope-field'; key: string; value: unknown }
  | { kind: 'data-not-object'; value: unknown }
  | { kind: 'bad-event'; value: unknown };

const KNOWN_KEYS = new Set(['vaultId', 'vaultName', 'secretId', 'secretKey', 'type', 'actor', 'member', 'id', 'name', 'email', 'role']);
const SECRET_VALUE_KEY = /^(value|secretvalue|secret_value|plaintext|ciphertext)$/i;
/** A JSON value without NUL, lone surrogates or secret-value keys: its only defect is where it is put. */
const anyJson = fc
  .jsonValue({ maxDepth: 4, stringUnit: 'grapheme' })
  .filter((v) => !/\\u0000|\\ud[89a-f]|"(value|secretvalue|secret_value|plaintext|ciphertext)":/i.test(JSON.stringify(v)));
const unknownKey = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((k) => !KNOWN_KEYS.has(k) && !SECRET_VALUE_KEY.test(k) && !k.includes('\u0000'));
const LONE_SURROGATES = ['\ud800', '\udfff', 'a\udc00b', '\ud83d', '😀\ud83d'];

function defectFor(event: SubscribableEventType, data: Record<string, unknown>): fc.Arbitrary<Defect> {
  const rules = FIELD_RULES[familyOf(event)];
  const present = rules.filter((r) => getAt(data, r.path) !== undefined);
  const required = present.filter((r) => r.required);
  const objects: string[][] = [[], ...(data.actor ? [['actor']] : []), ...(data.member ? [['member']] : [])];
  const at = <T>(list: T[]) => fc.constantFrom(...list);
  const none = fc.constant<Defect>({ kind: 'none' });
  return fc.oneof(
    { arbitrary: none, weight: 26 },
    { arbitrary: at(required).map((r): Defect => ({ kind: 'missing', path: r.path })), weight: 1 },
    { arbitrary: fc.tuple(at(objects), unknownKey, anyJson).map(([o, key, value]): Defect => ({ kind: 'unknown-field', path: [...o, key], value })), weight: 1 },
    {
      arbitrary: fc
        .tuple(at(present), fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(unknownKey, fc.string(), { maxKeys: 2 })))
        .map(([r, value]): Defect => ({ kind: 'wrong-type', path: r.path, value })),
      weight: 1,
    },
    { arbitrary: fc.tuple(at(present), fc.constantFrom(...FILL)).map(([r, ch]): Defect => ({ kind: 'too-long', path: r.path, value: fill(ch, r.max) + ch })), weight: 1 },
    ...(present.some((r) => r.min > 0) ? [{ arbitrary: at(present.filter((r) => r.min > 0)).map((r): Defect => ({ kind: 'empty', path: r.path })), weight: 1 }] : []),
    {
      arbitrary: fc
        .tuple(at(objects), fc.constantFrom('value', 'secretValue', 'SECRET_VALUE', 'plaintext', 'Ciphertext'), text(1, 40))
        .map(([o, key, value]): Defect => ({ kind: 'secret-value', path: [...o, key], value })),
      weight: 1,
    },
    { arbitrary: fc.tuple(at(present), fc.constantFrom('\u0000', 'a\u0000', '\u0000😀')).map(([r, value]): Defect => ({ kind: 'nul', path: r.path, value })), weight: 1 },
    { arbitrary: fc.tuple(at(present), fc.constantFrom(...LONE_SURROGATES)).map(([r, value]): Defect => ({ kind: 'lone-surrogate', path: r.path, value })), weight: 1 },
    {
      // 31 levels under body and data make 33: one past the limit.
      arbitrary: fc.tuple(unknownKey, fc.integer({ min: 31, max: 200 })).map(([key, depth]): Defect => {
        let value: unknown = 'bottom';
        for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
        return { kind: 'too-deep', path: [key], value };
      }),
      weight: 1,
    },
    { arbitrary: fc.constantFrom('v', '€').map((ch): Defect => ({ kind: 'oversized', path: ['vaultName'], value: ch.repeat(270_000) })), weight: 1 },
    { arbitrary: fc.tuple(fc.constantFrom('source', 'vaultId', 'Event', 'data_', 'timestamp_ms'), anyJson).map(([key, value]): Defect => ({ kind: 'envelope-field', key, value })), weight: 1 },
    { arbitrary: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })).map((value): Defect => ({ kind: 'data-not-object', value })), weight: 1 },
    { arbitrary: fc.constantFrom('ping', 'secret.read', 'Secret.Created', 'secret.created ', '', 'vault.*', 42, null).map((value): Defect => ({ kind: 'bad-event', value })), weight: 1 },
  );
}

// ---------- the whole request

export interface IngestCase {
  event: SubscribableEventType;
  id: IdCase;
  timestamp: TimestampCase;
  data: Record<string, unknown>;
  defect: Defect;
  /** Send the accepted event again after its deliveries ended: a duplicate. */
  resend: boolean;
}

/** Long strings cut short, so a counterexample prints in a few lines (FC_SEED with its path replays it whole). */
function abbreviated(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 60 ? `${v.slice(0, 24)}…(${codePoints(v)} code points)` : v;
  if (Array.isArray(v)) return v.map(abbreviated);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, abbreviated(x)]));
  return v;
}

const printable = (c: IngestCase): IngestCase =>
  Object.defineProperty(c, fc.toStringMethod, { value: () => JSON.stringify(abbreviated(c)), enumerable: false });

export const ingestCase: fc.Arbitrary<IngestCase> = fc
  .constantFrom(...SUBSCRIBABLE_EVENT_TYPES)
  .chain((event) => validData(event).map((data) => ({ event, data })))
  .chain(({ event, data }) =>
    fc.record({
      event: fc.constant(event),
      id: idCase,
      timestamp: timestampCase,
      data: fc.constant(data),
      defect: defectFor(event, data),
      resend: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
    }),
  )
  .map(printable);

/** The JSON body of a case, with its defect applied and its id made unique by `unique`. */
export function bodyOf(c: IngestCase, unique: string): Record<string, unknown> {
  const data: Record<string, unknown> = structuredClone(c.data);
  const body: Record<string, unknown> = { event: c.event, data };
  if (c.id.kind === 'valid') body.id = `evt_${unique}${c.id.stem}`.slice(0, 104);
  if (c.id.kind === 'invalid') body.id = c.id.value;
  if (c.timestamp.verdict !== 'absent') body.timestamp = c.timestamp.value;
  const d = c.defect;
  switch (d.kind) {
    case 'none':
      break;
    case 'missing': {
      const parent = getAt(data, d.path.slice(0, -1)) as Record<string, unknown>;
      delete parent[d.path[d.path.length - 1]];
      break;
    }
    case 'empty':
      setAt(data, d.path, '');
      break;
    case 'unknown-field':
    case 'wrong-type':
    case 'too-long':
    case 'secret-value':
    case 'nul':
    case 'lone-surrogate':
    case 'too-deep':
    case 'oversized':
      setAt(data, d.path, d.value);
      break;
    case 'envelope-field':
      body[d.key] = d.value;
      break;
    case 'data-not-object':
      body.data = d.value;
      break;
    case 'bad-event':
      body.event = d.value;
      break;
  }
  return body;
}

export const BODY_LIMIT_BYTES = 256 * 1024;

export type ExpectedAnswer =
  /** Accepted with this many deliveries; `utcMs`: the instant the timestamp names (absent: the time of the request). */
  | { status: 202; deliveries: number; utcMs?: number }
  /** Refused naming exactly these fields (one ending in `…` stands for any field under that prefix). */
  | { status: 400 | 413 | 422; fields: string[] };

const dataField = (path: string[]) => ['data', ...path].join('.');

/**
 * What the API may answer (one of these), in the order it checks: the body's size; NUL characters, lone surrogates
 * and nesting depth anywhere; the envelope (id, timestamp, event, data's type, unknown fields); a secret value in
 * data (422); data against its event type's schema. A timestamp in another ISO 8601 spelling may be refused or
 * read as the instant it names. Accepted events go to every webhook subscribed to everything (`allEventsWebhooks`)
 * and to the vault-filtered one when their vault is one of its own.
 */
export function expectedAnswers(c: IngestCase, body: Record<string, unknown>, allEventsWebhooks: number): ExpectedAnswer[] {
  if (Buffer.byteLength(JSON.stringify(body)) > BODY_LIMIT_BYTES) return [{ status: 413, fields: ['body'] }];
  const d = c.defect;
  // The first container past the reader's depth limit, somewhere under the key.
  if (d.kind === 'too-deep') return [{ status: 400, fields: [`body.data.${d.path.join('.')}…`] }];
  if (d.kind === 'nul' || d.kind === 'lone-surrogate') return [{ status: 400, fields: [`body.${dataField(d.path)}`] }];

  const answer = (timestampRefused: boolean): ExpectedAnswer => {
    const envelope: string[] = [];
    if (c.id.kind === 'invalid') envelope.push('body.id');
    if (timestampRefused) envelope.push('body.timestamp');
    if (d.kind === 'envelope-field') envelope.push(`body.${d.key}`);
    if (d.kind === 'data-not-object') envelope.push('body.data');
    if (d.kind === 'bad-event') envelope.push('body.event');
    if (envelope.length) return { status: 400, fields: envelope };
    if (d.kind === 'secret-value') return { status: 422, fields: [dataField(d.path)] };
    if ('path' in d) return { status: 400, fields: [dataField(d.path)] };
    const vault = c.data.vaultId;
    return { status: 202, deliveries: allEventsWebhooks + ((FILTERED_VAULTS as readonly string[]).includes(vault as string) ? 1 : 0), utcMs: c.timestamp.utcMs };
  };
  if (c.timestamp.verdict === 'either') return [answer(true), answer(false)];
  return [answer(c.timestamp.verdict === 'invalid')];
}

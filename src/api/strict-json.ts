/**
 * JSON bodies read strictly: invalid UTF-8, duplicate keys and deep nesting are refused before
 * JSON.parse builds anything, and NUL characters (which PostgreSQL cannot store) are found by field.
 * The scan is iterative, so hostile input cannot overflow the stack.
 */

/** Deep enough for any real request (an ingest body nests 4 levels), shallow enough for any walk. */
export const MAX_JSON_DEPTH = 32;

export class JsonInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Frame = { kind: 'object'; path: string; keys: Set<string>; key: string | null; expectKey: boolean } | { kind: 'array'; path: string; index: number };

const childPath = (frame: Frame | undefined, root: string): string =>
  !frame ? root : frame.kind === 'array' ? `${frame.path}.${frame.index}` : `${frame.path}.${frame.key ?? ''}`;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly (a replacement character would silently change what the client sent). */
export function decodeUtf8(bytes: Uint8Array, field = 'body'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new JsonInputError(field, 'is not valid UTF-8');
  }
}

/**
 * Checks nesting depth and duplicate object keys without recursion. Grammar errors are left to
 * JSON.parse, so this only has to follow strings and brackets.
 */
export function scanJson(text: string, root = 'body', maxDepth = MAX_JSON_DEPTH): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        let key: unknown;
        try {
          key = JSON.parse(text.slice(i, end + 1));
        } catch {
          return; // not a string literal: JSON.parse will say so
        }
        const name = String(key);
        if (top.keys.has(name)) throw new JsonInputError(`${top.path}.${name}`, 'appears twice in the same object');
        top.keys.add(name);
        top.key = name;
        top.expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      const path = childPath(stack[stack.length - 1], root);
      if (stack.length >= maxDepth) throw new JsonInputError(path, `nests deeper than ${maxDepth} levels`);
      stack.push(c === '{' ? { kind: 'object', path, keys: new Set(), key: null, expectKey: true } : { kind: 'array', path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    }
  }
}

/** Parses a JSON text strictly; throws JsonInputError naming the field, or SyntaxError for malformed JSON. */
export function parseStrictJson(text: string, root = 'body', maxDepth = MAX_JSON_DEPTH): unknown {
  scanJson(text, root, maxDepth);
  return JSON.parse(text);
}

/** Why a string cannot be stored as sent (see findUnstorableText). */
export type UnstorableText = 'nul' | 'lone-surrogate';

/** An unpaired UTF-16 surrogate: valid JSON (`"\ud800"`), but no Unicode character. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

function problemOf(s: string): UnstorableText | null {
  if (s.includes('\u0000')) return 'nul';
  return LONE_SURROGATE.test(s) ? 'lone-surrogate' : null;
}

/** A key as a path shows it: the characters that made it unstorable written as escapes. */
const printableKey = (key: string) =>
  key.replace(/\u0000/g, '\\u0000').replace(LONE_SURROGATES, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

/**
 * The path of the first string (value or key) PostgreSQL cannot store as sent, and why, or null: a NUL character
 * (refused by text and jsonb alike), or an unpaired surrogate (jsonb refuses its escape with an error; a text column
 * would get U+FFFD in its place, silently changing what the client sent). Iterative, and bounded by `maxDepth` so it
 * is safe on values that did not come through parseStrictJson.
 */
export function findUnstorableText(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH + 2): { field: string; problem: UnstorableText } | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (pending.length > 0) {
    const { value: v, path, depth } = pending.pop()!;
    if (typeof v === 'string') {
      const problem = problemOf(v);
      if (problem) return { field: path, problem };
    } else if (v && typeof v === 'object' && depth < maxDepth) {
      const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const problem = problemOf(key);
        if (problem) return { field: `${path}.${printableKey(key)}`, problem };
        pending.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return null;
}

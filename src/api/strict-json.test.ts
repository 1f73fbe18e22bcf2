import { decodeUtf8, findUnstorableText, JsonInputError, MAX_JSON_DEPTH, parseStrictJson } from './strict-json';

function errorOf(fn: () => unknown): { field: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof JsonInputError) return { field: err.field, message: err.message };
    throw err;
  }
}

describe('parseStrictJson', () => {
  it('parses ordinary JSON, keeping key order', () => {
    const text = '{"b": 1, "a": [1, {"c": "x\\"y,{"}], "s": "[[[", "n": null}';
    expect(JSON.stringify(parseStrictJson(text))).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('refuses a duplicate key, naming it with its path', () => {
    expect(errorOf(() => parseStrictJson('{"a": 1, "a": 2}'))).toEqual({ field: 'body.a', message: 'appears twice in the same object' });
    expect(errorOf(() => parseStrictJson('{"data": {"list": [{"k": 1}, {"k": 2, "k": 3}]}}'))).toMatchObject({ field: 'body.data.list.1.k' });
    // The same key spelled with an escape is still the same key.
    expect(errorOf(() => parseStrictJson('{"ab": 1, "\\u0061b": 2}'))).toMatchObject({ field: 'body.ab' });
  });

  it('allows the same key in sibling objects', () => {
    expect(parseStrictJson('[{"a": 1}, {"a": 2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('refuses nesting past the limit without recursion, and accepts it at the limit', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(parseStrictJson(deep(MAX_JSON_DEPTH))).toBeDefined();
    expect(errorOf(() => parseStrictJson(deep(MAX_JSON_DEPTH + 1)))?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    expect(errorOf(() => parseStrictJson('{"data": ' + deep(100_000) + '}'))).toMatchObject({ field: 'body.data' + '.0'.repeat(MAX_JSON_DEPTH - 1) });
  });

  it('leaves malformed JSON to JSON.parse', () => {
    expect(() => parseStrictJson('{"a": ')).toThrow(SyntaxError);
    expect(() => parseStrictJson('{"a')).toThrow(SyntaxError);
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 and refuses invalid bytes', () => {
    expect(decodeUtf8(Buffer.from('{"name":"Zoë"}'))).toBe('{"name":"Zoë"}');
    expect(errorOf(() => decodeUtf8(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])))).toEqual({ field: 'body', message: 'is not valid UTF-8' });
  });
});

describe('findUnstorableText', () => {
  const nul = (field: string) => ({ field, problem: 'nul' });
  const lone = (field: string) => ({ field, problem: 'lone-surrogate' });

  it('finds a NUL in a value or a key, by path, and nothing in clean input', () => {
    expect(findUnstorableText({ a: ['x', 'y\u0000'] }, 'body')).toEqual(nul('body.a.1'));
    expect(findUnstorableText({ data: { 'k\u0000': 1 } }, 'body')).toEqual(nul('body.data.k\\u0000'));
    expect(findUnstorableText('\u0000', 'query.cursor')).toEqual(nul('query.cursor'));
    expect(findUnstorableText({ a: [1, true, null, 'ok'] }, 'body')).toBeNull();
  });

  it('finds an unpaired surrogate, high or low, alone or beside other text, in a value or a key', () => {
    expect(findUnstorableText(JSON.parse('{"data":{"vaultId":"\\ud800"}}'), 'body')).toEqual(lone('body.data.vaultId'));
    expect(findUnstorableText({ a: 'x\udc00y' }, 'body')).toEqual(lone('body.a'));
    expect(findUnstorableText({ a: '😀\ud83d' }, 'body')).toEqual(lone('body.a'));
    expect(findUnstorableText({ a: '\ude00😀' }, 'body')).toEqual(lone('body.a'));
    expect(findUnstorableText({ ['k\udfff']: 1 }, 'body')).toEqual(lone('body.k\\udfff'));
  });

  it('lets every real character through: astral ones (a surrogate pair), combining marks, U+FFFD itself', () => {
    expect(findUnstorableText({ a: '😀𝄞金庫 e\u0301 \ufffd \u{10ffff}', b: ['\ud83d\ude00'] }, 'body')).toBeNull();
  });
});

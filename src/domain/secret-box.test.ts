import { keyIdOf, SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(SecretBox.generateKey());

  it('round-trips and never stores the plaintext', () => {
    const sealed = box.seal('whsec_top-secret');
    expect(sealed).not.toContain('top-secret');
    expect(box.open(sealed)).toBe('whsec_top-secret');
    expect(box.seal('whsec_top-secret')).not.toBe(sealed); // fresh IV each time
  });

  it('refuses a tampered ciphertext or the wrong key', () => {
    const sealed = box.seal('value');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(SecretBox.generateKey()).open(sealed)).toThrow(/not in the key ring/);
  });

  it('refuses keys that are not 32 bytes, in either role', () => {
    expect(() => new SecretBox(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => new SecretBox(SecretBox.generateKey(), [Buffer.alloc(31).toString('base64')])).toThrow(/32 bytes/);
  });
});

describe('SecretBox key ring', () => {
  const oldKey = SecretBox.generateKey();
  const newKey = SecretBox.generateKey();

  it('records the sealing key in the ciphertext, and its id is stable and not the key', () => {
    const box = new SecretBox(newKey);
    const sealed = box.seal('value');
    expect(sealed.split('.').slice(0, 2)).toEqual(['v2', box.keyId]);
    expect(box.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(box.keyId).toBe(keyIdOf(Buffer.from(newKey, 'base64')));
    expect(new SecretBox(newKey, [oldKey]).keyId).toBe(box.keyId);
    expect(box.keyId).not.toBe(new SecretBox(oldKey).keyId);
    expect(sealed).not.toContain(Buffer.from(newKey, 'base64').toString('hex').slice(0, 16));
  });

  it('seals with the newest key and opens with every listed key', () => {
    const before = new SecretBox(oldKey).seal('sealed before the rotation');
    const ring = new SecretBox(newKey, [oldKey]);
    expect(ring.open(before)).toBe('sealed before the rotation');
    const after = ring.seal('sealed after');
    expect(new SecretBox(newKey).open(after)).toBe('sealed after');
    expect(() => new SecretBox(oldKey).open(after)).toThrow(/not in the key ring/);
    expect(ring.keyIds).toEqual([ring.keyId, new SecretBox(oldKey).keyId]);
  });

  it('a new key rolled out as decryption-only first opens what already-switched processes seal', () => {
    const switched = new SecretBox(newKey, [oldKey]);
    const notYetSwitched = new SecretBox(oldKey, [newKey]);
    expect(notYetSwitched.open(switched.seal('written by a switched pod'))).toBe('written by a switched pod');
    expect(switched.open(notYetSwitched.seal('written by an old pod'))).toBe('written by an old pod');
  });

  it('still opens the v1 format written before key ids, under any key of the ring', () => {
    // Written by the v1 code (before the key ring) with this key: rows stored today look like these.
    const v1Key = Buffer.alloc(32, 7).toString('base64');
    const v1Secret = 'v1.KQvAO8OrR8CCnPu7.GzgsLIv3_XFRUfMoaXKFoQ.EuV2jVlrC5U5pOYfXmHLTvenhAO4M3_QnQQR';
    const v1Url = 'v1.Gz8ZT00NOeayZRY-.WR28AkLg_hG3mWoVRx-bcA.c5IJAMJo7qbDXL4ldQcyJwOnqSEdNg2zHOQuLTcu6n_vh-v0hR0ybvhrQdQi1U8';
    for (const box of [new SecretBox(v1Key), new SecretBox(newKey, [oldKey, v1Key])]) {
      expect(box.open(v1Secret)).toBe('whsec_sealed-by-the-v1-code');
      expect(box.open(v1Url)).toBe('https://hooks.slack.com/services/T000/B000/XXXX');
    }
    expect(() => new SecretBox(newKey, [oldKey]).open(v1Secret)).toThrow(/No key of the key ring opens this value/);
  });

  it('re-seals only what is not under the primary key yet', () => {
    const ring = new SecretBox(newKey, [oldKey]);
    const old = new SecretBox(oldKey).seal('value');
    expect(ring.isCurrent(old)).toBe(false);
    const resealed = ring.reseal(old);
    expect(ring.isCurrent(resealed)).toBe(true);
    expect(resealed.startsWith(ring.currentPrefix)).toBe(true);
    expect(new SecretBox(newKey).open(resealed)).toBe('value');
    expect(ring.reseal(resealed)).toBe(resealed);
  });

  it('a value stripped of its key id, or given another, does not open', () => {
    const ring = new SecretBox(newKey, [oldKey]);
    const parts = new SecretBox(oldKey).seal('value').split('.');
    // Relabelled as v1 (no key id), the v2 value's AAD is missing and GCM refuses it under every key.
    expect(() => ring.open(['v1', ...parts.slice(2)].join('.'))).toThrow(/No key of the key ring/);
    parts[1] = ring.keyId;
    expect(() => ring.open(parts.join('.'))).toThrow();
  });

  it('derives the OAuth state key from the primary, and offers every key for verification', () => {
    const ring = new SecretBox(newKey, [oldKey]);
    expect(ring.deriveKey('label')).toEqual(new SecretBox(newKey).deriveKey('label'));
    expect(ring.deriveKeys('label')).toEqual([new SecretBox(newKey).deriveKey('label'), new SecretBox(oldKey).deriveKey('label')]);
  });

  it('lists a key given twice once', () => {
    expect(new SecretBox(newKey, [newKey, oldKey, oldKey]).keyIds).toHaveLength(2);
  });
});

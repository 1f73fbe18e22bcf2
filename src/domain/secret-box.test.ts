import { SecretBox } from './secret-box';

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
    parts[3] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(SecretBox.generateKey()).open(sealed)).toThrow();
  });
});

import { findSecretValueField } from './events';

describe('findSecretValueField', () => {
  it('finds a value field at any depth, by its path', () => {
    expect(findSecretValueField({ vaultId: 'v', actor: { id: 'u', secretValue: 'x' } })).toBe('data.actor.secretValue');
    expect(findSecretValueField({ list: [{ a: 1 }, { value: 'x' }] })).toBe('data.list[1].value');
    expect(findSecretValueField({ vaultId: 'v', actor: { id: 'u' } })).toBeNull();
  });

  it('finds the first in document order', () => {
    expect(findSecretValueField({ a: { plaintext: 1 }, value: 2 })).toBe('data.a.plaintext');
  });

  it('does not overflow the stack on hostile nesting', () => {
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(() => findSecretValueField({ deep })).not.toThrow();
  });
});

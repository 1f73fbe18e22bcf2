import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const KEY_ID_LABEL = 'secret-box-key-id';
const V2 = 'v2';
const V1 = 'v1';

/** A key's public name: 16 hex characters of an HMAC under the key (it reveals nothing about the key itself). */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_ID_LABEL).digest('hex').slice(0, 16);
}

function parseKey(base64Key: string): Buffer {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error('The encryption key must be 32 bytes');
  return key;
}

/**
 * AES-256-GCM for values stored at rest (webhook secrets, Slack/Discord URLs that embed tokens), over a key ring:
 * the primary key seals, the primary and every decryption-only key open, so the key can be rotated with no downtime
 * (docs/operations.md, "Rotating the encryption key").
 *
 * Format: `v2.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts; the key id and version are authenticated (GCM
 * additional data), so a value cannot be passed off as sealed by another key. Values written before the key ring,
 * `v1.<iv>.<tag>.<ciphertext>`, carry no key id: every key is tried, and GCM's tag says which one fits.
 */
export class SecretBox {
  /** The id of the primary key, the one that seals. */
  readonly keyId: string;
  private readonly primary: Buffer;
  /** Every key by id, the primary first. */
  private readonly keys = new Map<string, Buffer>();

  constructor(primaryKey: string, decryptionKeys: readonly string[] = []) {
    this.primary = parseKey(primaryKey);
    this.keyId = keyIdOf(this.primary);
    for (const key of [this.primary, ...decryptionKeys.map(parseKey)]) {
      const id = keyIdOf(key);
      const known = this.keys.get(id);
      if (known && !known.equals(key)) throw new Error(`Two keys of the key ring share the id ${id}`);
      this.keys.set(id, key);
    }
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  /** The ids of every key that opens values, the primary first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** A separate key for another purpose (e.g. signing OAuth state), derived so the master key never leaves. */
  deriveKey(label: string): Buffer {
    return createHmac('sha256', this.primary).update(label).digest();
  }

  /** The same derivation under every key of the ring, the primary's first: what another process may have signed with. */
  deriveKeys(label: string): Buffer[] {
    return [...this.keys.values()].map((key) => createHmac('sha256', key).update(label).digest());
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.primary, iv);
    cipher.setAAD(Buffer.from(`${V2}.${this.keyId}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [V2, this.keyId, ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts[0] === V2 && parts.length === 5) {
      const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`Sealed with key ${keyId}, which is not in the key ring (SECRET_ENCRYPTION_KEY, SECRET_DECRYPTION_KEYS)`);
      return decrypt(key, iv, tag, ciphertext, `${V2}.${keyId}`);
    }
    if (parts[0] === V1 && parts.length === 4) {
      const [, iv, tag, ciphertext] = parts as [string, string, string, string];
      for (const key of this.keys.values()) {
        try {
          return decrypt(key, iv, tag, ciphertext);
        } catch {
          // Not this key: GCM's tag did not verify.
        }
      }
      throw new Error('No key of the key ring opens this value (v1 format, sealed before key ids were recorded)');
    }
    throw new Error('Unrecognised ciphertext');
  }

  /** Whether `sealed` is already under the primary key (what re-encryption leaves alone). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }

  /** The start every value sealed by the primary key has. */
  get currentPrefix(): string {
    return `${V2}.${this.keyId}.`;
  }

  /** The same plaintext sealed under the primary key; a value already under it is returned as it is. */
  reseal(sealed: string): string {
    return this.isCurrent(sealed) ? sealed : this.seal(this.open(sealed));
  }
}

function decrypt(key: Buffer, iv: string, tag: string, ciphertext: string, aad?: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config';
import { SecretBox } from './domain/secret-box';

/**
 * The key ring for values at rest: SECRET_ENCRYPTION_KEY seals (in development, a key generated once under
 * .data/), it and SECRET_DECRYPTION_KEYS open.
 */
export function loadSecretBox(config: Pick<Config, 'secretEncryptionKey' | 'secretDecryptionKeys' | 'dataDir'>): SecretBox {
  if (config.secretEncryptionKey) return new SecretBox(config.secretEncryptionKey, config.secretDecryptionKeys);
  const file = path.join(config.dataDir, 'secret-encryption.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, SecretBox.generateKey() + '\n', { mode: 0o600 });
  }
  return new SecretBox(fs.readFileSync(file, 'utf8').trim(), config.secretDecryptionKeys);
}

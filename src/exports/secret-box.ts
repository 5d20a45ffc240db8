import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Encrypts credentials at rest (AES-256-GCM) under SECRETS_KEY or a key generated once in DATA_DIR. */
export interface SecretBox {
  /** `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). */
  encrypt(plain: string): string;
  /** Throws SecretsKeyError when the value was sealed under another key. */
  decrypt(sealed: string): string;
  /** A short fingerprint of the key (not the key), stored beside each secret. */
  keyId(): string;
}

/** The configured key cannot open stored secrets (changed or lost SECRETS_KEY / DATA_DIR/secrets-key). */
export class SecretsKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsKeyError';
  }
}

/** Where the generated key is kept when SECRETS_KEY is unset. */
export function secretsKeyPath(dataDir: string): string {
  return path.join(dataDir, 'secrets-key');
}

/** Parse a configured key: 32 bytes as base64/base64url (44/43 chars) or hex (64 chars). */
export function parseSecretsKey(text: string): Buffer {
  const s = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (buf.length !== 32)
    throw new SecretsKeyError('SECRETS_KEY must be 32 bytes, base64 or hex; generate one with: openssl rand -base64 32');
  return buf;
}

/** A SecretBox that loads (or, the first time, generates) its key when first used. */
export function createSecretBox(config: { SECRETS_KEY?: string; DATA_DIR: string }): SecretBox {
  let key: Buffer | undefined;
  let id: string | undefined;
  const load = (): Buffer => {
    if (key) return key;
    key = config.SECRETS_KEY ? parseSecretsKey(config.SECRETS_KEY) : loadOrCreateKeyFile(secretsKeyPath(config.DATA_DIR));
    id = createHash('sha256').update('chatops-secrets-key-id').update(key).digest('base64url').slice(0, 10);
    return key;
  };
  return {
    keyId() {
      load();
      return id as string;
    },
    encrypt(plain) {
      const k = load();
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', k, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', id, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(sealed) {
      const k = load();
      const [v, kid, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new SecretsKeyError('a stored secret is not in the expected format');
      if (kid !== id) throw new SecretsKeyError(wrongKey(kid ?? '?', id as string));
      try {
        const d = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
      } catch {
        throw new SecretsKeyError(wrongKey(kid ?? '?', id as string));
      }
    },
  };
}

/** The error text when stored secrets were sealed with another key. */
export function wrongKey(stored: string, current: string): string {
  return (
    `stored credentials were encrypted with key ${stored}, but the configured key is ${current}. ` +
    'Set SECRETS_KEY to the original key (or restore DATA_DIR/secrets-key); otherwise re-create the data sources with `npm run cli -- source create`.'
  );
}

function loadOrCreateKeyFile(file: string): Buffer {
  try {
    return parseSecretsKey(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return parseSecretsKey(readFileSync(file, 'utf8'));
    throw err;
  }
}

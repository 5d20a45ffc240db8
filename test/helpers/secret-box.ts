import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretBox } from '../../src/notify/secret-box';

/** A test SecretBox: AES-256-GCM with a random key per box (the exports module supplies the real one). */
export function testSecretBox(key = randomBytes(32)): SecretBox {
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return `v1:${Buffer.concat([iv, c.getAuthTag(), data]).toString('base64')}`;
    },
    decrypt(sealed) {
      const raw = Buffer.from(sealed.replace(/^v1:/, ''), 'base64');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

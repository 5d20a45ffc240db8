/**
 * Encrypts secrets (robot webhooks and signing secrets) before they are stored, and decrypts them to
 * send. The exports module's AES-256-GCM box (`deps.secrets`, SECRETS_KEY or DATA_DIR/secrets-key)
 * has these two methods; notify only sees this port, so an encrypted value is opaque here and never
 * logged.
 */
export interface SecretBox {
  /** Encrypt; the result is a printable string safe to keep in JSON. */
  encrypt(plain: string): string;
  /** Decrypt a value `encrypt` produced; throws when it was tampered with or sealed under another key. */
  decrypt(sealed: string): string;
}

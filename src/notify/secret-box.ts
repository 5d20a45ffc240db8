/**
 * Seals secrets (robot access tokens and signing secrets) before they are stored, and opens them
 * to send. The exports module implements it with AES-256-GCM and the key from config; notify only
 * sees this port, so a sealed value is opaque here and never logged.
 */
export interface SecretBox {
  /** Encrypt; the result is a printable string safe to keep in JSON. */
  seal(plaintext: string): string;
  /** Decrypt a value `seal` produced; throws when it was tampered with or sealed with another key. */
  open(sealed: string): string;
}

import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Largest accepted distance between the callback's timestamp and our clock (DingTalk: 1 hour). */
export const MAX_SKEW_MS = 3_600_000;

/** Base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)) — DingTalk's callback and robot sign. */
export function computeSign(timestamp: string, secret: string): string {
  return createHmac('sha256', keyFor(secret)).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

// The HMAC key object of the last secret used: one secret signs every callback of a process.
let lastKey: { secret: string; key: KeyObject } | undefined;
function keyFor(secret: string): KeyObject {
  if (lastKey?.secret !== secret) lastKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return lastKey.key;
}

/**
 * Check an HTTP callback's `timestamp` and `sign` headers against the app secret.
 * Pure: the clock is a parameter. The sign is plain Base64 (not URL-encoded).
 */
export function verifySignature(secret: string, headers: { timestamp?: string | null; sign?: string | null }, nowMs: number): boolean {
  const ts = headers.timestamp ?? '';
  const sign = headers.sign ?? '';
  if (!secret || !/^\d{1,16}$/.test(ts) || sign === '') return false;
  if (Math.abs(nowMs - Number(ts)) > MAX_SKEW_MS) return false;
  const expected = Buffer.from(computeSign(ts, secret));
  const given = Buffer.from(sign);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

import { constantTimeEqual, hmacSha256Base64 } from '../lib/web-crypto';

/** Largest accepted distance between the callback's timestamp and our clock (DingTalk: 1 hour). */
const MAX_SKEW_MS = 3_600_000;

/**
 * The Web Crypto twin of chat/sign.ts `verifySignature` (same rule, same answers; a test holds them
 * equal): Base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)) within an hour of `nowMs`.
 */
export async function verifySignatureWeb(
  secret: string,
  headers: { timestamp?: string | null; sign?: string | null },
  nowMs: number,
): Promise<boolean> {
  const ts = headers.timestamp ?? '';
  const sign = headers.sign ?? '';
  if (!secret || !/^\d{1,16}$/.test(ts) || sign === '') return false;
  if (Math.abs(nowMs - Number(ts)) > MAX_SKEW_MS) return false;
  return constantTimeEqual(await hmacSha256Base64(secret, `${ts}\n${secret}`), sign);
}

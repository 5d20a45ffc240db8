import { describe, expect, it } from 'vitest';
import { computeSign, MAX_SKEW_MS, verifySignature } from '../../src/chat/sign';

// Vectors from DINGTALK.md §7.1 (row 1 uses the official doc's own example inputs).
const VECTORS = [
  { secret: 'this is a secret', ts: '1577262236757', sign: 'DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=' },
  { secret: 'test-app-secret', ts: '1700000000000', sign: 'dhJB8TJ0cHPEbwpUauugV2Wz8v4qlWoO+C42nEhJW+c=' },
];

describe('DingTalk callback signature', () => {
  it.each(VECTORS)('computes the documented sign for $secret', ({ secret, ts, sign }) => {
    expect(computeSign(ts, secret)).toBe(sign);
    expect(verifySignature(secret, { timestamp: ts, sign }, Number(ts))).toBe(true);
  });

  it('accepts exactly one hour of skew either way and rejects one millisecond more', () => {
    const { secret, ts, sign } = VECTORS[0]!;
    const t = Number(ts);
    expect(verifySignature(secret, { timestamp: ts, sign }, t + MAX_SKEW_MS)).toBe(true);
    expect(verifySignature(secret, { timestamp: ts, sign }, t - MAX_SKEW_MS)).toBe(true);
    expect(verifySignature(secret, { timestamp: ts, sign }, t + MAX_SKEW_MS + 1)).toBe(false);
    expect(verifySignature(secret, { timestamp: ts, sign }, t - MAX_SKEW_MS - 1)).toBe(false);
  });

  it('rejects tampering, a wrong secret, URL-encoding and missing or malformed headers', () => {
    const { secret, ts, sign } = VECTORS[1]!;
    const now = Number(ts);
    const flipped = (sign[0] === 'a' ? 'b' : 'a') + sign.slice(1);
    const cases: [string, { timestamp?: string; sign?: string }, string][] = [
      ['flipped character', { timestamp: ts, sign: flipped }, secret],
      ['other timestamp with the old sign', { timestamp: String(now + 1), sign }, secret],
      ['wrong secret', { timestamp: ts, sign }, 'other-secret'],
      ['URL-encoded sign', { timestamp: ts, sign: encodeURIComponent(sign) }, secret],
      ['missing sign', { timestamp: ts }, secret],
      ['missing timestamp', { sign }, secret],
      ['seconds not milliseconds', { timestamp: ts.slice(0, 10), sign: computeSign(ts.slice(0, 10), secret) }, secret],
      ['non-numeric timestamp', { timestamp: `${ts}x`, sign }, secret],
      ['duplicate headers joined', { timestamp: `${ts}, ${ts}`, sign }, secret],
      ['empty secret', { timestamp: ts, sign: computeSign(ts, '') }, ''],
    ];
    for (const [label, headers, key] of cases) {
      expect(verifySignature(key, headers, now), label).toBe(false);
    }
  });
});

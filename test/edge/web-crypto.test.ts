import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeSign, MAX_SKEW_MS, verifySignature } from '../../src/chat/sign';
import { verifySignatureWeb } from '../../src/edge/verify-signature';
import { hashToken } from '../../src/http/tokens';
import { constantTimeEqual, hmacSha256Base64, sha256Hex } from '../../src/lib/web-crypto';

// The Worker checks signs and tokens with Web Crypto; Node with node:crypto. They must agree exactly.
describe('Web Crypto twins of the Node checks', () => {
  it('computes the DingTalk sign byte for byte like chat/sign.ts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 45 }), async (secret, ts) => {
        expect(await hmacSha256Base64(secret, `${ts}\n${secret}`)).toBe(computeSign(String(ts), secret));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts and refuses exactly what verifySignature does', async () => {
    const secret = 'SEC-edge-秘密';
    const now = 1_764_000_000_000;
    const ts = String(now);
    const good = computeSign(ts, secret);
    const cases: { timestamp?: string | null; sign?: string | null; now?: number; secret?: string }[] = [
      { timestamp: ts, sign: good },
      { timestamp: ts, sign: good, now: now + MAX_SKEW_MS },
      { timestamp: ts, sign: good, now: now - MAX_SKEW_MS - 1 },
      { timestamp: ts, sign: `${good.slice(0, -2)}A=` },
      { timestamp: ts, sign: computeSign(ts, 'other') },
      { timestamp: ts, sign: null },
      { timestamp: ts, sign: '' },
      { timestamp: null, sign: good },
      { timestamp: `${ts}x`, sign: good },
      { timestamp: '12345678901234567', sign: good },
      { timestamp: ts, sign: good, secret: '' },
    ];
    const answers = [];
    for (const c of cases) {
      const s = c.secret ?? secret;
      const headers = { timestamp: c.timestamp, sign: c.sign };
      const web = await verifySignatureWeb(s, headers, c.now ?? now);
      expect(web).toBe(verifySignature(s, headers, c.now ?? now));
      answers.push(web);
    }
    expect(answers).toEqual([true, true, false, false, false, false, false, false, false, false, false]);
  });

  it('hashes tokens as the hex SHA-256 already stored by earlier versions', async () => {
    for (const token of ['cob_abc', 'cob_令牌', '']) {
      expect(await hashToken(token)).toBe(createHash('sha256').update(token, 'utf8').digest('hex'));
      expect(await sha256Hex(token)).toBe(await hashToken(token));
    }
  });

  it('compares strings fully', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'ab')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

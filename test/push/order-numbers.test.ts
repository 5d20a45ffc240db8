import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/chat/dispatch';
import type { Deps } from '../../src/deps';
import { INSTALL_TAG_DIGITS, installTag } from '../../src/push/order-numbers';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';

// Two installs that know nothing of each other (a fresh ./data, another instance on its own
// database) both count from 1. Their order numbers must still differ: each database draws its own
// tag once, stores it, and writes it into every order number.
const dbs: TestDb[] = [];
beforeAll(async () => {
  // Two Postgres databases cloned from the same migrated template (the hardest case: identical
  // up to the first push), and the embedded PGlite.
  dbs.push(await createTestDb('postgres'), await createTestDb('postgres'), await createTestDb('pglite'));
});
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const NOW = Date.UTC(2026, 10, 23, 2, 0, 0);
const alice = { key: 'alice', staffId: 'alice', nick: 'Alice', role: 'operator' as const };

async function firstOrderNo(deps: Deps): Promise<string> {
  const r = await dispatch(deps, { source: 'http', caller: alice, text: '/push refund store=12 sku=A001 dry' });
  expect(r.outcome).toBe('ok');
  return (r.data as { orderNo: string }).orderNo;
}

describe('order numbers across installs', () => {
  it('differ between databases that push on the same day, and stay stable within one', async () => {
    const depsOf = dbs.map((d) => testDeps(d.db, {}, { now: () => NOW }));
    const numbers = await Promise.all(depsOf.map(firstOrderNo));
    // Same prefix, day and counter value (each database's first number)...
    for (const n of numbers) expect(n).toMatch(new RegExp(`^TK20261123\\d{${INSTALL_TAG_DIGITS}}00000001$`));
    // ...and still three different order numbers.
    expect(new Set(numbers).size).toBe(numbers.length);
    // The tag is drawn once and stored: asked again, each database gives the same number.
    expect(await Promise.all(depsOf.map(firstOrderNo))).toEqual(numbers);
    for (const [i, d] of dbs.entries()) {
      expect(numbers[i]?.slice(10, 10 + INSTALL_TAG_DIGITS)).toBe(await installTag(d.db));
    }
  });
});

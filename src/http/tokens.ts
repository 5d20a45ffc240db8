import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Role } from '../config';
import { createBatcher, perDatabase } from '../db/batch';
import type { Database } from '../db/client';
import { apiTokens } from '../db/schema';
import { sha256Hex } from '../lib/web-crypto';

/** Hex SHA-256 of a token, as stored (Web Crypto: the Worker checks tokens with the same function). */
export function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Issue a token for `name` with `role`; the plain token is returned once and only its hash is kept. */
export async function createApiToken(db: Database, name: string, role: Role, createdBy: string): Promise<string> {
  const token = `cob_${randomBytes(24).toString('base64url')}`;
  await db.orm.insert(apiTokens).values({ name, role, tokenHash: await hashToken(token), createdBy });
  return token;
}

/** Revoke the live token called `name`; false when there is none. */
export async function revokeApiToken(db: Database, name: string): Promise<boolean> {
  const rows = await db.orm
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** All tokens (live and revoked), without their hashes. */
export async function listApiTokens(db: Database) {
  return db.orm
    .select({
      name: apiTokens.name,
      role: apiTokens.role,
      createdBy: apiTokens.createdBy,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .orderBy(asc(apiTokens.createdAt));
}

type Verified = { name: string; role: Role } | null;

// Every check of one event-loop turn in one UPDATE (group commit, src/db/batch.ts).
const verifyBatch = perDatabase((db: Database) =>
  createBatcher<string, Verified>(async (hashes) => {
    const rows = await db.query<{ token_hash: string; name: string; role: string }>(
      `update api_tokens set last_used_at = now()
        where token_hash in (select jsonb_array_elements_text($1::jsonb)) and revoked_at is null
        returning token_hash, name, role`,
      [JSON.stringify([...new Set(hashes)])],
    );
    const found = new Map(rows.map((r) => [r.token_hash, { name: r.name, role: r.role as Role }]));
    return hashes.map((h) => found.get(h) ?? null);
  }),
);

// Bearer values seen recently and their hashes, so a busy caller's token is hashed once. Only the
// hash is looked up: revoking a token still takes effect on its next call.
const hashes = new Map<string, string>();
const HASHES_KEPT = 1000;

async function cachedHash(token: string): Promise<string> {
  let h = hashes.get(token);
  if (h === undefined) {
    h = await hashToken(token);
    if (hashes.size >= HASHES_KEPT) hashes.clear();
    hashes.set(token, h);
  }
  return h;
}

/** The live token matching a bearer value, or null. Marks it used. */
export async function verifyApiToken(db: Database, token: string): Promise<Verified> {
  return verifyBatch(db)(await cachedHash(token));
}

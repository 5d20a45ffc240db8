import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Role } from '../config';
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

/** The live token matching a bearer value, or null. Marks it used. */
export async function verifyApiToken(db: Database, token: string): Promise<{ name: string; role: Role } | null> {
  const rows = await db.orm
    .update(apiTokens)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiTokens.tokenHash, await hashToken(token)), isNull(apiTokens.revokedAt)))
    .returning({ name: apiTokens.name, role: apiTokens.role });
  const row = rows[0];
  return row ? { name: row.name, role: row.role as Role } : null;
}

import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { hasRole } from '../chat/roles';
import type { Role } from '../config';
import type { Deps } from '../deps';
import type { Caller } from '../lib/roles';
import { verifyApiToken } from './tokens';

/** Hono variables set by the bearer-token middleware. */
export type AuthVars = { Variables: { caller: Caller } };

/**
 * Require `Authorization: Bearer <token>` naming a live API token with at least `minRole`.
 * 401 for a missing/unknown/revoked token, 403 for too small a role.
 */
export function requireToken(deps: Deps, minRole: Role = 'viewer'): MiddlewareHandler<AuthVars> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new HTTPException(401, { message: 'missing bearer token (Authorization: Bearer <token>)' });
    const token = await verifyApiToken(deps.db, m[1]);
    if (!token) throw new HTTPException(401, { message: 'unknown or revoked token' });
    if (!hasRole(token.role, minRole)) throw new HTTPException(403, { message: `token role ${token.role} is below ${minRole}` });
    c.set('caller', { key: `token:${token.name}`, nick: token.name, role: token.role });
    await next();
  };
}

/** The caller the middleware authenticated. */
export function callerOf(c: Context<AuthVars>): Caller {
  return c.get('caller');
}

/** 403 unless the authenticated caller has at least `role` (for routes stricter than their group). */
export function ensureRole(c: Context<AuthVars>, role: Role): void {
  const caller = c.get('caller');
  if (!hasRole(caller.role, role)) throw new HTTPException(403, { message: `token role ${caller.role} is below ${role}` });
}

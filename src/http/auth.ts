import type { Context, MiddlewareHandler } from 'hono';
import { takeRateLimit } from '../chat/rate-limit';
import { hasRole } from '../chat/roles';
import type { Role } from '../config';
import type { Deps } from '../deps';
import type { Caller } from '../lib/roles';
import { ApiError } from './errors';
import { verifyApiToken } from './tokens';

/** Hono variables set by the bearer-token middleware. */
export type AuthVars = { Variables: { caller: Caller } };

/**
 * Require `Authorization: Bearer <token>` naming a live API token (401 otherwise), then count the
 * call against the caller's per-minute limit (429 with Retry-After). Mounted once for /hooks/* and
 * /api/*; routes needing more than viewer call `ensureRole`.
 */
export function requireToken(deps: Deps): MiddlewareHandler<AuthVars> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new ApiError(401, 'unauthorized', deps.t('http.authMissing'), 'Authorization');
    const token = await verifyApiToken(deps.db, m[1]);
    if (!token) throw new ApiError(401, 'unauthorized', deps.t('http.authUnknown'), 'Authorization');
    const caller: Caller = { key: `token:${token.name}`, nick: token.name, role: token.role };
    c.set('caller', caller);
    const limit = deps.config.RATE_LIMIT_PER_MINUTE;
    const rl = await takeRateLimit(deps.db, `user:${caller.key}`, limit);
    if (!rl.allowed) {
      throw new ApiError(429, 'rate_limited', deps.t('http.rateLimited', { limit, seconds: rl.retryAfterSec }), undefined, {
        'Retry-After': String(rl.retryAfterSec),
      });
    }
    await next();
  };
}

/** The caller the middleware authenticated. */
export function callerOf(c: Context<AuthVars>): Caller {
  return c.get('caller');
}

/** 403 unless the authenticated caller has at least `role`. */
export function ensureRole(c: Context<AuthVars>, deps: Pick<Deps, 't'>, role: Role): void {
  const caller = c.get('caller');
  if (!hasRole(caller.role, role)) {
    throw new ApiError(
      403,
      'forbidden',
      deps.t('http.roleTooLow', { name: caller.nick, role: deps.t(`role.${role}`), yours: deps.t(`role.${caller.role}`) }),
    );
  }
}

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from '../deps';

/** The one error body every HTTP endpoint answers with. */
export interface ApiErrorBody {
  ok: false;
  error: { code: string; message: string; field?: string };
}

/** Build the error body (message already in the configured locale). */
export function errorBody(code: string, message: string, field?: string): ApiErrorBody {
  return { ok: false, error: field ? { code, message, field } : { code, message } };
}

/** Answer with the one error shape. */
export function apiError(
  c: Context,
  _deps: Pick<Deps, 't'>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  field?: string,
  headers: Record<string, string> = {},
) {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json(errorBody(code, message, field), status);
}

/** Thrown by middleware and helpers; `app.onError` turns it into the one error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

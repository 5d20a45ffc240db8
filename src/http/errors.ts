import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { expectation } from '../chat/arg-errors';
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

type Issue = z.core.$ZodIssue;

/**
 * The issue that names the deepest field: where a field may take one of several shapes (text or a
 * list), zod reports the union; the branch whose path goes furthest says what was wrong.
 */
export function innermostIssue(issue: Issue | undefined, prefix: string[] = []): { issue: Issue | undefined; path: string[] } {
  const path = [...prefix, ...(issue?.path ?? []).map(String)];
  if (issue?.code !== 'invalid_union') return { issue, path };
  let best: { issue: Issue | undefined; path: string[] } = { issue, path };
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const found = innermostIssue(inner, path);
      if (found.path.length > best.path.length) best = found;
    }
  }
  return best;
}

/**
 * A request body or query that failed validation, as the one error shape in the configured
 * language: which field (as the caller spelled it), what was expected, an example — never zod's
 * English. `fieldName` maps a schema key to the name the caller sent.
 */
export function invalidFieldError(
  deps: Pick<Deps, 't'>,
  issues: readonly Issue[],
  opts: { example: string; known?: readonly string[]; fieldName?: (key: string) => string },
): ApiError {
  const { issue, path } = innermostIssue(issues[0]);
  const name = (p: string[]) => [opts.fieldName?.(p[0] ?? '') ?? p[0], ...p.slice(1)].filter(Boolean).join('.');
  if (issue?.code === 'unrecognized_keys') {
    const field = name([...path, issue.keys[0] ?? '']);
    return new ApiError(400, 'bad_args', deps.t('http.unknownKey', { key: field, known: (opts.known ?? []).join(', ') }), field);
  }
  const field = name(path) || 'body';
  // JSON says "array" where chat says "a comma-separated list".
  const expected = !issue
    ? deps.t('args.expect.text')
    : issue.code === 'invalid_type' && issue.expected === 'array'
      ? deps.t('http.expect.array')
      : expectation(issue, deps.t);
  return new ApiError(400, 'bad_args', deps.t('http.fieldExpected', { field, expected, example: opts.example }), field);
}

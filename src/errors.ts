import type { MessageKey, Vars } from './i18n';

/** Stable codes for problems the user can fix; they become a helpful reply and are never retried. */
export type UserErrorCode = 'unknown_command' | 'bad_args' | 'forbidden' | 'rate_limited' | 'not_found' | 'conflict';

/**
 * A problem in what the user asked for. Carries a catalog key, not text, so the reply is
 * rendered in the configured locale.
 */
export class UserError extends Error {
  constructor(
    readonly code: UserErrorCode,
    readonly key: MessageKey,
    readonly vars: Vars = {},
    readonly field?: string,
  ) {
    super(`${code}: ${key} ${JSON.stringify(vars)}`);
    this.name = 'UserError';
  }
}

/** A job failure that no retry can fix (bad payload, validation): the job fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** A remote service answered and said no (status + body), as opposed to being unreachable. */
export class RemoteError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${service} answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'RemoteError';
  }
}

/** The text of any thrown value, for logs and job records. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

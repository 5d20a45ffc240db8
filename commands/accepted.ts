import type { CommandContext } from '../src/chat/define-command';
import type { MessageKey, Vars } from '../src/i18n';

/**
 * The line that says a job was accepted and where its result will come: in this chat when the
 * command came from one, or at the job's status URL for a webhook caller (no chat to post to).
 * `key` has a `<key>NoChat` twin in the catalog that takes `{statusUrl}`.
 */
export function acceptedText(
  ctx: CommandContext,
  key: 'export.queued' | 'push.queued' | 'diagnose.queued',
  vars: Vars,
  jobId: number,
): string {
  if (ctx.replyTarget) return ctx.t(key, vars);
  const statusUrl = `${ctx.deps.config.PUBLIC_URL}/api/jobs/${jobId}`;
  return ctx.t(`${key}NoChat` as MessageKey, { ...vars, statusUrl });
}

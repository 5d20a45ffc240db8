import type { CommandContext } from '../src/chat/define-command';
import type { MessageKey, Vars } from '../src/i18n';
import { jobStatusUrl } from '../src/jobs/reads';

/**
 * The line that says a job was accepted and where its result will come: in this chat when the
 * command came from one; otherwise there is no chat to post to, so at the job's status URL (a
 * webhook caller) or `npm run cli -- job N` (the local CLI). `key` has a `<key>NoChat` twin in the
 * catalog that takes `{where}`.
 */
export function acceptedText(
  ctx: CommandContext,
  key: 'export.queued' | 'push.queued' | 'diagnose.queued',
  vars: Vars,
  jobId: number,
): string {
  if (ctx.replyTarget) return ctx.t(key, vars);
  const where = ctx.source === 'cli' ? `npm run cli -- job ${jobId}` : jobStatusUrl(ctx.deps.config, jobId);
  return ctx.t(`${key}NoChat` as MessageKey, { ...vars, where });
}

import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { retryJob } from '../src/jobs/admin';
import { loadJobFor } from './job-access';

export default defineCommand({
  name: 'retry',
  aliases: ['重试'],
  role: 'operator',
  positional: ['id'],
  args: z.object({ id: example(intArg(1, Number.MAX_SAFE_INTEGER), '42') }),
  examples: ['/retry 42'],
  async run(ctx, { id }) {
    const { t } = ctx;
    await loadJobFor(ctx, id, 'act');
    const r = await retryJob(ctx.deps.db, id, ctx.caller.key);
    if (!r.ok) {
      ctx.reply.text(t('retry.notRetryable', { id, status: r.status ? t(`job.status.${r.status}`) : '-' }));
      return;
    }
    ctx.reply.text(t('retry.done', { id, attempt: r.job.attempts + 1 }));
    return { jobId: id };
  },
});

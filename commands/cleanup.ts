import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { submitJob } from '../src/jobs/submit';

export default defineCommand({
  name: 'cleanup',
  aliases: ['清理'],
  role: 'admin',
  args: z.object({ days: example(intArg(1, 3650).optional(), '30') }),
  examples: ['/cleanup', '/cleanup days=7'],
  async run(ctx, { days }) {
    const olderThanDays = days ?? ctx.deps.config.JOB_RETENTION_DAYS;
    const { job, created } = await submitJob(ctx.deps.db, ctx.deps.jobDefinitions, {
      kind: 'jobs_cleanup',
      payload: { olderThanDays },
      dedupeKey: 'jobs_cleanup',
      requestedBy: ctx.caller.key,
      replyTo: ctx.replyTarget,
    });
    ctx.reply.text(created ? ctx.t('cleanup.queued', { id: job.id, days: olderThanDays }) : ctx.t('cleanup.alreadyQueued', { id: job.id }));
    return { jobId: job.id };
  },
});

import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { cancelJob } from '../src/jobs/admin';
import { loadJobFor } from './job-access';

export default defineCommand({
  name: 'cancel',
  aliases: ['取消'],
  role: 'operator',
  positional: ['id'],
  args: z.object({ id: example(intArg(1, Number.MAX_SAFE_INTEGER), '42') }),
  examples: ['/cancel 42'],
  async run(ctx, { id }) {
    const { t } = ctx;
    await loadJobFor(ctx, id, 'act');
    const r = await cancelJob(ctx.deps.db, id, ctx.caller.key);
    if (!r) throw new Error(`job ${id} vanished`);
    if (r.before === 'queued') ctx.reply.text(t('cancel.done', { id }));
    else if (r.before === 'running') ctx.reply.text(t('cancel.requested', { id }));
    else ctx.reply.text(t('cancel.alreadyFinished', { id, status: t(`job.status.${r.before}`) }));
    return { jobId: id };
  },
});

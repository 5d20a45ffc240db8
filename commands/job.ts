import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { jobEventsOf } from '../src/jobs/reads';
import { kindLabel, renderJobDetail } from '../src/jobs/render';
import { loadJobFor } from './job-access';

export default defineCommand({
  name: 'job',
  aliases: ['任务'],
  role: 'viewer',
  positional: ['id'],
  args: z.object({ id: example(intArg(1, Number.MAX_SAFE_INTEGER), '42') }),
  examples: ['/job 42'],
  async run(ctx, { id }) {
    const job = await loadJobFor(ctx, id);
    const events = await jobEventsOf(ctx.deps.db, id, 8);
    const def = ctx.deps.jobDefinitions.find((d) => d.kind === job.kind);
    const text = renderJobDetail(job, events, ctx.t, def);
    ctx.reply.markdown(ctx.t('job.detail.title', { id, kind: kindLabel(ctx.t, job.kind) }), text);
    return { data: { id: job.id, status: job.status } };
  },
});

import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { JOB_STATUSES } from '../src/db/schema';
import { listJobs } from '../src/jobs/reads';
import { renderJobLine } from '../src/jobs/render';

export default defineCommand({
  name: 'jobs',
  aliases: ['任务列表'],
  role: 'viewer',
  positional: ['status'],
  flags: ['all'],
  args: z.object({
    status: example(z.enum(JOB_STATUSES).optional(), 'failed'),
    kind: example(z.string().min(1).optional(), 'order_push'),
    all: z.boolean().default(false),
    user: example(z.string().min(1).optional(), 'manager807'),
    n: example(intArg(1, 50).default(10), '20'),
  }),
  examples: ['/jobs', '/jobs failed', '/jobs running all', '/jobs kind=order_push n=20'],
  async run(ctx, args) {
    const { t, caller } = ctx;
    const admin = caller.role === 'admin';
    // Everyone sees their own jobs; admins may ask for everyone's (`all`) or one person's (`user=`).
    const requestedBy = admin ? (args.user ?? (args.all ? undefined : caller.key)) : caller.key;
    const list = await listJobs(ctx.deps.db, { requestedBy, status: args.status, kind: args.kind, limit: args.n });
    const scope = requestedBy === caller.key ? t('jobs.scope.mine') : requestedBy ? requestedBy : t('jobs.scope.all');
    const title = t('jobs.title', { scope });
    if (list.length === 0) {
      ctx.reply.text(`${title}\n${t('jobs.none')}`);
      return;
    }
    ctx.reply.markdown(title, `### ${title}\n\n${list.map((j) => renderJobLine(j, t)).join('\n')}\n\n${t('jobs.footer')}`);
  },
});

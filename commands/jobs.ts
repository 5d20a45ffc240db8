import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { JOB_STATUSES } from '../src/db/schema';
import { UserError } from '../src/errors';
import { visibilityFilter } from '../src/jobs/access';
import { listJobs } from '../src/jobs/reads';
import { renderJobLine } from '../src/jobs/render';
import { hasRole } from '../src/lib/roles';
import { viewerOf } from './job-access';

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
    const admin = hasRole(caller.role, 'admin');
    // `all` and `user=` widen the view past the rule: admins only, and a non-admin is told so.
    if (!admin && (args.all || args.user)) {
      throw new UserError('forbidden', 'jobs.needAdmin', { what: args.all ? 'all' : `user=${args.user}` }, args.all ? 'all' : 'user');
    }
    const visible = visibilityFilter(viewerOf(ctx));
    // Admins see their own by default too; `all` or `user=` opens everyone's.
    const requestedBy = admin ? (args.user ?? (args.all ? undefined : caller.key)) : undefined;
    const list = await listJobs(ctx.deps.db, { visible, requestedBy, status: args.status, kind: args.kind, limit: args.n });
    const scope = admin
      ? requestedBy === caller.key
        ? t('jobs.scope.mine')
        : (requestedBy ?? t('jobs.scope.all'))
      : !visible.all && visible.groupConversationId && ctx.conversation?.type === 'group'
        ? t('jobs.scope.mineAndGroup')
        : t('jobs.scope.mine');
    const title = t('jobs.title', { scope });
    if (list.length === 0) {
      ctx.reply.text(`${title}\n${t('jobs.none')}`);
      return;
    }
    ctx.reply.markdown(title, `### ${title}\n\n${list.map((j) => renderJobLine(j, t)).join('\n')}\n\n${t('jobs.footer')}`);
  },
});

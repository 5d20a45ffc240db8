import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand } from '../src/chat/define-command';
import { visibilityFilter } from '../src/jobs/access';
import { formatDuration, kindLabel } from '../src/jobs/render';
import { jobStats } from '../src/jobs/stats';
import { viewerOf } from './job-access';

export default defineCommand({
  name: 'stats',
  aliases: ['统计'],
  role: 'viewer',
  args: z.object({ hours: example(intArg(1, 24 * 90).default(24), '24') }),
  examples: ['/stats', '/stats hours=168'],
  async run(ctx, { hours }) {
    const { t } = ctx;
    const visible = visibilityFilter(viewerOf(ctx));
    const rows = await jobStats(ctx.deps.db, hours, visible);
    const title = t(visible.all ? 'stats.title' : 'stats.titleVisible', { hours });
    if (rows.length === 0) {
      ctx.reply.text(`${title}\n${t('stats.none')}`);
      return;
    }
    const fmt = (v: number | null, digits = 1) => (v === null ? '-' : v.toFixed(digits));
    const secs = (v: number | null) => (v === null ? '-' : formatDuration(v * 1000, t));
    const lines = rows.map((r) =>
      t('stats.line', {
        kind: kindLabel(t, r.kind),
        succeeded: r.succeeded,
        failed: r.failed,
        cancelled: r.cancelled,
        rate: r.successRate === null ? '-' : `${(r.successRate * 100).toFixed(1)}%`,
        avg: secs(r.avgSeconds),
        p95: secs(r.p95Seconds),
        wall: secs(r.avgWallSeconds),
        perMinute: fmt(r.perMinute, 2),
      }),
    );
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}`);
    return { data: rows };
  },
});

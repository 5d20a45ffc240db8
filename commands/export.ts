import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { defineCommand, defineSubcommand } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import { cellText } from '../src/exports/cells';
import { SourceError } from '../src/exports/drivers/types';
import { exportHistory } from '../src/exports/history';
import { previewExport } from '../src/exports/run-export';
import { formatValues, prepareExport, submitExport } from '../src/exports/submit-export';
import { listTasks } from '../src/exports/tasks';
import { fileUrl } from '../src/files';
import { visibilityFilter } from '../src/jobs/access';
import { formatDuration, formatTime, STATUS_ICON } from '../src/jobs/render';
import { formatBytes } from '../src/notify';
import { acceptedText } from './accepted';

const taskArg = example(z.string().min(1), 'jobs-daily');
/** `key=value` parameters typed after the task name, as text. */
const params = (args: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(args)
      .filter(([k]) => k !== 'task')
      .map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]),
  );
const paramValue = z.union([z.string(), z.number(), z.boolean()]);

const list = defineSubcommand({
  name: 'list',
  aliases: ['列表', 'ls'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/export list'],
  async run(ctx) {
    const { t } = ctx;
    const tasks = await listTasks(ctx.deps.db);
    if (tasks.length === 0) return void ctx.reply.text(t('export.noTasks'));
    const lines = tasks.map((k) =>
      t('export.list.line', {
        name: k.name,
        title: k.title ? `（${k.title}）` : '',
        source: k.source,
        format: k.format,
        params: k.params.map((p) => `${p.name}:${p.type}${p.default ? `=${p.default}` : ''}`).join(' ') || '-',
      }),
    );
    const title = t('export.list.title');
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}\n\n${t('export.list.footer')}`);
    return { data: tasks.map((k) => ({ name: k.name, source: k.source, params: k.params })) };
  },
});

const run = defineSubcommand({
  name: 'run',
  aliases: ['运行', '导出'],
  role: 'viewer', // the task's own `allowed` list decides
  positional: ['task'],
  args: z.object({ task: taskArg }).catchall(paramValue),
  examples: ['/export run jobs-daily', '/export run jobs-daily from=2026-11-01 to=today'],
  async run(ctx, args) {
    const { job, task, values } = await submitExport(ctx.deps, args.task, params(args), ctx.caller, ctx.replyTarget);
    ctx.reply.text(acceptedText(ctx, 'export.queued', { id: job.id, task: task.title ?? task.name, params: formatValues(values) }, job.id));
    return { jobId: job.id };
  },
});

const preview = defineSubcommand({
  name: 'preview',
  aliases: ['预览'],
  role: 'viewer',
  positional: ['task'],
  args: z.object({ task: taskArg }).catchall(paramValue),
  examples: ['/export preview jobs-daily', '/export preview jobs-daily from=yesterday'],
  async run(ctx, args) {
    const { t, deps } = ctx;
    const { task, values } = await prepareExport(deps, args.task, params(args), ctx.caller);
    let p: Awaited<ReturnType<typeof previewExport>>;
    try {
      p = await previewExport(deps, task, values, { n: 10 });
    } catch (err) {
      if (err instanceof SourceError) throw new UserError('bad_args', 'export.sourceError', { error: err.message });
      throw err;
    }
    const title = t('export.preview.title', { task: task.title ?? task.name });
    if (p.count === 0) return void ctx.reply.markdown(title, `### ${title}\n\n${t('export.preview.empty')}`);
    const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 60);
    const table = [
      `| ${p.columns.map((c) => esc(c.name)).join(' | ')} |`,
      `| ${p.columns.map(() => '---').join(' | ')} |`,
      ...p.rows.map((r) => `| ${r.map((v, i) => esc(cellText(v, p.columns[i]?.kind ?? 'text'))).join(' | ')} |`),
    ].join('\n');
    const head = t('export.preview.count', {
      count: p.count,
      limit: task.rowLimit,
      more: p.truncated ? t('export.preview.truncated') : '',
      n: p.rows.length,
    });
    ctx.reply.markdown(title, `### ${title}\n\n${head}\n\n${table}`);
    return { data: { columns: p.columns.map((c) => c.name), count: p.count, rows: p.rows } };
  },
});

const history = defineSubcommand({
  name: 'history',
  aliases: ['历史', '记录'],
  role: 'viewer',
  positional: ['task'],
  args: z.object({ task: example(z.string().min(1).optional(), 'jobs-daily'), n: example(intArg(1, 50).default(10), '20') }),
  examples: ['/export history', '/export history jobs-daily n=20'],
  async run(ctx, { task, n }) {
    const { t, deps } = ctx;
    const runs = await exportHistory(deps.db, visibilityFilter({ caller: ctx.caller, conversationId: ctx.conversation?.id }), {
      task,
      limit: n,
    });
    const title = t('export.history.title', { task: task ? ` · ${task}` : '' });
    if (runs.length === 0) return void ctx.reply.text(t('export.history.none'));
    const now = deps.now();
    const lines = runs.map((r) => {
      const live = r.file && !r.file.removed && r.file.expiresAt.getTime() > now;
      const link =
        live && r.file
          ? `[${r.file.name}](${fileUrl(deps, r.file)})`
          : r.file
            ? t('export.history.linkExpired')
            : r.error
              ? r.error.slice(0, 80)
              : t('export.history.noLink');
      return t('export.history.line', {
        icon: STATUS_ICON[r.status] ?? '',
        id: r.jobId,
        task: r.task,
        who: r.requestedBy ?? '-',
        when: formatTime(r.createdAt),
        params: formatValues(r.values as never),
        rows: r.rows ?? '-',
        size: r.size === null ? '-' : formatBytes(r.size),
        took: r.durationMs === null ? '-' : formatDuration(r.durationMs, t),
        link,
      });
    });
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}`);
    return { data: runs };
  },
});

export default defineCommand({
  name: 'export',
  aliases: ['导出'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/export list', '/export run jobs-daily', '/export preview jobs-daily', '/export history'],
  subcommands: [list, run, preview, history],
});

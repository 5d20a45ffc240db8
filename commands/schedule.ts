import { z } from 'zod';
import { example, intArg } from '../src/chat/args';
import { type CommandContext, defineCommand, defineSubcommand } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import type { ReplyTarget } from '../src/outbound';
import {
  addSchedule,
  changeState,
  checkGrace,
  checkOverlap,
  currentRun,
  runNow,
  type StateAction,
  scheduleTarget,
} from '../src/schedules/actions';
import { DEFAULT_ZONE } from '../src/schedules/cron';
import { scheduleHistory, scheduleStats } from '../src/schedules/history';
import { nextFireOf } from '../src/schedules/next-fire';
import { detailText, historyLine, listLine, nextLines, targetText, whatText, whenText } from '../src/schedules/render';
import { deleteSchedule, getScheduleByName, listSchedules, notifySchedules, type Schedule, updateSchedule } from '../src/schedules/store';
import { checkTiming } from '../src/schedules/timing';
import { planKind } from './schedule-kinds';

const nameArg = example(z.string().min(1).max(40), 'daily-orders');
const value = z.union([z.string(), z.number(), z.boolean()]);

async function find(ctx: CommandContext, name: string): Promise<Schedule> {
  const s = await getScheduleByName(ctx.deps.db, name);
  if (!s) throw new UserError('not_found', 'schedule.notFound', { name }, 'name');
  return s;
}

/** `target=`: a group's conversation id, or `none`; default: where the command was typed. (`to=` is left to job
 * parameters: exports use it for date ranges.) */
function targetOf(ctx: CommandContext, target: string | undefined): ReplyTarget | null {
  if (target === undefined) return scheduleTarget(ctx.replyTarget);
  if (['none', '无', '-'].includes(target.toLowerCase())) return null;
  return { conversationId: target, conversationType: 'group', robotCode: ctx.deps.config.robotCode };
}

const add = defineSubcommand({
  name: 'add',
  aliases: ['新建', '添加', 'create'],
  role: 'operator',
  positional: ['name', 'type', 'when', 'kind', 'what'],
  args: z
    .object({
      name: nameArg,
      type: example(z.string().min(1), 'cron'),
      when: example(z.string().optional(), '"0 9 * * 1-5"'),
      kind: example(z.string().optional(), 'export'),
      what: example(z.string().optional(), 'daily-orders'),
      zone: example(z.string().optional(), DEFAULT_ZONE),
      grace: example(value.optional(), '30m'),
      overlap: example(z.string().optional(), 'skip'),
      target: example(z.string().optional(), 'cidXXXX'),
    })
    .catchall(value),
  examples: [
    '/schedule add daily-orders cron "0 9 * * 1-5" export daily-orders',
    '/schedule add nightly-clean cron "30 2 * * *" cleanup days=7',
    '/schedule add once date "2026-12-01 09:00" push refund store=12 sku=A001',
    '/schedule add on-demand manual cleanup',
  ],
  async run(ctx, args) {
    const { t, deps } = ctx;
    const { name, type, zone, grace, overlap, target, ...rest } = args as Record<string, unknown> & { name: string; type: string };
    let { when, kind, what } = rest as { when?: string; kind?: string; what?: string };
    delete rest.when;
    delete rest.kind;
    delete rest.what;
    // A manual schedule has no time: the words after its type are the kind and what it runs.
    if (type === 'manual' && when !== undefined) [when, kind, what] = [undefined, when, kind];
    if (!kind) throw new UserError('bad_args', 'schedule.needKind', {}, 'kind');
    checkTiming({ type, when, zone: (zone as string | undefined) ?? DEFAULT_ZONE }, new Date(deps.now()));
    const planned = await planKind(ctx, kind, what, rest);
    const s = await addSchedule(deps, {
      name,
      type,
      when,
      zone: zone as string | undefined,
      kind: planned.kind,
      payload: planned.payload,
      grace: grace as string | number | undefined,
      overlap: overlap as string | undefined,
      replyTo: targetOf(ctx, target as string | undefined),
      owner: ctx.caller.key,
    });
    const next = nextLines(s, new Date(deps.now()));
    const text = [
      t('schedule.added', { name: s.name, when: await whenText(s, t), kind: whatText(s, t) }),
      next.length ? `${t('schedule.detail.next')}\n${next.join('\n')}` : '',
      t('schedule.addedTarget', { target: targetText(s, t) }),
    ]
      .filter(Boolean)
      .join('\n');
    ctx.reply.markdown(t('schedule.title'), text);
    return { data: { id: s.id, name: s.name, nextFireAt: s.nextFireAt } };
  },
});

const edit = defineSubcommand({
  name: 'edit',
  aliases: ['修改'],
  role: 'operator',
  positional: ['name'],
  args: z.object({
    name: nameArg,
    cron: example(z.string().optional(), '"0 10 * * 1-5"'),
    at: example(z.string().optional(), '"2026-12-01 09:00"'),
    manual: z.boolean().optional(),
    zone: example(z.string().optional(), 'Asia/Shanghai'),
    grace: example(value.optional(), '10m'),
    overlap: example(z.string().optional(), 'queue'),
    target: example(z.string().optional(), 'none'),
  }),
  flags: ['manual'],
  examples: ['/schedule edit daily-orders cron="0 10 * * 1-5"', '/schedule edit daily-orders grace=10m overlap=queue'],
  async run(ctx, args) {
    const { t, deps } = ctx;
    const s = await find(ctx, args.name);
    const now = new Date(deps.now());
    const retime = args.cron !== undefined || args.at !== undefined || args.manual || args.zone !== undefined;
    const timing = retime
      ? checkTiming(
          {
            type: args.manual ? 'manual' : args.cron !== undefined ? 'cron' : args.at !== undefined ? 'date' : s.type,
            when: args.cron ?? args.at ?? (s.type === 'cron' ? (s.cron ?? undefined) : s.runAt?.toISOString()),
            zone: args.zone ?? s.timezone,
          },
          now,
        )
      : undefined;
    const after = await updateSchedule(deps.db, s.id, {
      ...(timing ?? {}),
      ...(args.grace !== undefined ? { misfireGraceSec: checkGrace(String(args.grace)) } : {}),
      ...(args.overlap !== undefined ? { overlap: checkOverlap(args.overlap) } : {}),
      ...(args.target !== undefined ? { replyTo: targetOf(ctx, args.target) } : {}),
      ...(timing ? { resetChecked: true, nextFireAt: nextFireOf({ ...s, ...timing }, now) } : {}),
    });
    if (!after) throw new UserError('not_found', 'schedule.notFound', { name: args.name }, 'name');
    ctx.reply.markdown(
      t('schedule.title'),
      `${t('schedule.edited', { name: s.name })}\n\n${await detailText(after, await scheduleStats(deps.db, s.id), t, now)}`,
    );
  },
});

const list = defineSubcommand({
  name: 'list',
  aliases: ['列表', 'ls'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/schedule list'],
  async run(ctx) {
    const { t } = ctx;
    const all = await listSchedules(ctx.deps.db);
    if (all.length === 0) {
      ctx.reply.text(t('schedule.none'));
      return;
    }
    const lines = await Promise.all(all.map((s) => listLine(s, t)));
    ctx.reply.markdown(
      t('schedule.title'),
      `### ${t('schedule.list.title', { n: all.length })}\n\n${lines.join('\n')}\n\n${t('schedule.list.hint')}`,
    );
  },
});

const show = defineSubcommand({
  name: 'show',
  aliases: ['查看', 'info'],
  role: 'viewer',
  positional: ['name'],
  args: z.object({ name: nameArg }),
  examples: ['/schedule show daily-orders'],
  async run(ctx, { name }) {
    const s = await find(ctx, name);
    const stats = await scheduleStats(ctx.deps.db, s.id);
    const running = await currentRun(ctx.deps.db, s);
    const text = await detailText(s, stats, ctx.t, new Date(ctx.deps.now()));
    ctx.reply.markdown(ctx.t('schedule.title'), running ? `${text}\n\n${ctx.t('schedule.running', { id: running })}` : text);
    return { data: { schedule: s, stats } };
  },
});

const history = defineSubcommand({
  name: 'history',
  aliases: ['历史', 'runs'],
  role: 'viewer',
  positional: ['name', 'n'],
  args: z.object({ name: nameArg, n: example(intArg(1, 50).default(10), '20') }),
  examples: ['/schedule history daily-orders', '/schedule history daily-orders 20'],
  async run(ctx, { name, n }) {
    const { t } = ctx;
    const s = await find(ctx, name);
    const runs = await scheduleHistory(ctx.deps.db, s.id, n);
    if (runs.length === 0) {
      ctx.reply.text(t('schedule.history.none', { name: s.name }));
      return;
    }
    ctx.reply.markdown(
      t('schedule.title'),
      `### ${t('schedule.history.title', { name: s.name })}\n\n${runs.map((r) => historyLine(r, s.timezone, t)).join('\n')}`,
    );
    return { data: runs };
  },
});

function stateCommand(action: StateAction, aliases: string[]) {
  return defineSubcommand({
    name: action,
    aliases,
    role: 'operator',
    positional: ['name'],
    args: z.object({ name: nameArg }),
    examples: [`/schedule ${action} daily-orders`],
    async run(ctx, { name }) {
      const s = await find(ctx, name);
      const r = await changeState(ctx.deps, s, action, ctx.caller.key);
      const next = r.schedule.nextFireAt
        ? ctx.t('schedule.list.next', { at: nextLines(r.schedule, new Date(ctx.deps.now()), 1)[0]?.slice(2) ?? '' })
        : '';
      ctx.reply.text(
        [
          ctx.t(`schedule.done.${action}`, { name: s.name }) + next,
          r.cancelledJob ? ctx.t('schedule.cancelledRun', { id: r.cancelledJob }) : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    },
  });
}

const run = defineSubcommand({
  name: 'run',
  aliases: ['执行', '立即执行', 'now'],
  role: 'operator',
  positional: ['name'],
  args: z.object({ name: nameArg }),
  examples: ['/schedule run daily-orders'],
  async run(ctx, { name }) {
    const s = await find(ctx, name);
    const r = await runNow(ctx.deps, s, ctx.caller.key, ctx.replyTarget);
    if (r.outcome === 'fired') {
      ctx.reply.text(ctx.t('schedule.ranNow', { name: s.name, id: r.jobId }));
      return { jobId: r.jobId };
    }
    if (r.outcome === 'no_handler') throw new UserError('conflict', 'schedule.noHandler', { name: s.name, kind: s.kind });
    const running = await currentRun(ctx.deps.db, s);
    ctx.reply.text(ctx.t(r.outcome === 'pending' ? 'schedule.runQueued' : 'schedule.runSkipped', { name: s.name, id: running ?? '?' }));
  },
});

const rm = defineSubcommand({
  name: 'rm',
  aliases: ['删除', 'delete', 'remove'],
  role: 'operator',
  positional: ['name'],
  args: z.object({ name: nameArg }),
  examples: ['/schedule rm daily-orders'],
  async run(ctx, { name }) {
    const s = await find(ctx, name);
    if (s.builtin) throw new UserError('conflict', 'schedule.builtinKept', { name: s.name });
    await deleteSchedule(ctx.deps.db, s.id);
    ctx.reply.text(ctx.t('schedule.removed', { name: s.name }));
  },
});

const reload = defineSubcommand({
  name: 'reload',
  aliases: ['重载'],
  role: 'operator',
  args: z.object({}),
  examples: ['/schedule reload'],
  async run(ctx) {
    const all = await listSchedules(ctx.deps.db);
    await notifySchedules(ctx.deps.db, 'reload');
    ctx.reply.text(ctx.t('schedule.reloaded', { n: all.filter((s) => s.state === 'active' && s.type !== 'manual').length }));
  },
});

export default defineCommand({
  name: 'schedule',
  aliases: ['定时', '定时任务', 'schedules'],
  role: 'viewer',
  args: z.object({}),
  subcommands: [
    list,
    show,
    add,
    edit,
    stateCommand('pause', ['暂停']),
    stateCommand('resume', ['恢复']),
    stateCommand('stop', ['停止']),
    stateCommand('start', ['启动', '启用']),
    run,
    history,
    rm,
    reload,
  ],
  examples: ['/schedule list', '/schedule add daily-orders cron "0 9 * * 1-5" export daily-orders', '/schedule run daily-orders'],
});

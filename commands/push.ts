import { z } from 'zod';
import { boolArg, example, intArg } from '../src/chat/args';
import { type CommandContext, defineCommand, defineSubcommand } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import type { MessageKey } from '../src/i18n';
import { canAct, canView, type Viewer, visibilityFilter } from '../src/jobs/access';
import { getJob } from '../src/jobs/reads';
import { formatTime, STATUS_ICON } from '../src/jobs/render';
import { pushHistory } from '../src/push/history';
import { findPreset, parseCount } from '../src/push/prepare';
import type { Preset } from '../src/push/preset-schema';
import { PUSH_KIND, type PushPayload } from '../src/push/push-job';
import { userRequiredPaths } from '../src/push/rules';
import { exampleArgs, fieldLabel, type PushSpec, presetName } from '../src/push/spec';
import { dryRunPush, submitPush, validatePush } from '../src/push/submit-push';
import { getTemplate } from '../src/push/templates';
import { acceptedText } from './accepted';

/** Values typed in chat (or JSON from a webhook) as text, for templates and overrides. */
function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Who is asking, for the job visibility rule (src/jobs/access.ts). */
function viewerOf(ctx: CommandContext): Viewer {
  return { caller: ctx.caller, conversationId: ctx.conversation?.id };
}

const history = defineSubcommand({
  name: 'history',
  aliases: ['历史', 'h'],
  role: 'viewer',
  positional: ['n'],
  flags: ['mine'],
  args: z.object({ n: example(intArg(1, 50).default(10), '20'), mine: z.boolean().default(false) }),
  examples: ['/push history', '/push history 20', '/push history mine'],
  async run(ctx, { n, mine }) {
    const { t, deps } = ctx;
    const rows = await pushHistory(deps.db, {
      limit: n,
      visible: visibilityFilter(viewerOf(ctx)),
      requestedBy: mine ? ctx.caller.key : undefined,
    });
    const title = t('push.history.title');
    if (rows.length === 0) {
      ctx.reply.text(t('push.history.none'));
      return;
    }
    const lines = rows.map((r) => {
      const p = deps.presets.get(r.type);
      return t('push.history.line', {
        icon: STATUS_ICON[r.status] ?? '',
        id: r.jobId,
        type: p ? presetName(p, t.locale) : r.type,
        count: r.count,
        confirmed: r.confirmed,
        first: r.firstOrderNo ?? '-',
        who: r.requestedBy ?? '-',
        when: formatTime(r.createdAt),
        status: t(`job.status.${r.status}` as MessageKey),
      });
    });
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}\n\n${t('push.history.footer')}`);
    return { data: rows };
  },
});

const replay = defineSubcommand({
  name: 'replay',
  aliases: ['重放', '再推一次'],
  role: 'operator',
  positional: ['id'],
  flags: ['dry'],
  args: z.object({ id: example(intArg(1, Number.MAX_SAFE_INTEGER), '42'), dry: boolArg().default(false) }),
  examples: ['/push replay 42', '/push replay 42 dry'],
  async run(ctx, { id, dry }) {
    const { t, deps } = ctx;
    const old = await getJob(deps.db, id);
    // A push the caller may not see reads as "not found" (ids of others' work are not revealed);
    // one they may see but did not start (a group's push) needs its owner or an admin to replay.
    if (!old || old.kind !== PUSH_KIND || !canView(viewerOf(ctx), old)) {
      throw new UserError('not_found', 'push.replayNotFound', { id }, 'id');
    }
    if (!canAct(ctx.caller, old)) throw new UserError('forbidden', 'push.replayNotOwner', { id, owner: old.requestedBy ?? '-' }, 'id');
    const { spec } = old.payload as PushPayload;
    // Validate again: the preset, limits or allow-list may have changed since.
    const { preset, spec: fresh } = validatePush(deps, {
      type: spec.type,
      overrides: spec.overrides,
      items: spec.items,
      count: spec.count,
      queue: spec.queue,
    });
    if (dry) return showDryRun(ctx, preset, fresh);
    const job = await submitPush(deps, fresh, ctx.caller, { replyTo: ctx.replyTarget, replayOf: id });
    ctx.reply.text(
      t('push.replayQueued', { id: job.id, of: id, type: presetName(preset, t.locale), count: fresh.count, queue: fresh.queue }),
    );
    return { jobId: job.id };
  },
});

const types = defineSubcommand({
  name: 'types',
  aliases: ['类型', 'list'],
  role: 'viewer',
  positional: ['type'],
  args: z.object({ type: example(z.string().min(1).optional(), 'refund') }),
  examples: ['/push types', '/push types refund'],
  async run(ctx, { type }) {
    const { t, deps } = ctx;
    if (type) {
      const p = findPreset(deps.presets, type, t.locale);
      // One line per field, with every name it goes by (store / 门店 → 店铺ID (storeId)).
      const names = new Map<string, string[]>();
      for (const [short, path] of Object.entries(p.fields)) names.set(path, [...(names.get(path) ?? []), short]);
      const fields = [...names].map(([path, shorts]) => `- ${shorts.join(' / ')} → ${fieldLabel(p, path, t.locale)}`);
      // Required of the user: fields a generator fills or with a usable default are not.
      const required = userRequiredPaths(p)
        .map((path) => fieldLabel(p, path, t.locale))
        .join(t('list.sep'));
      const title = `${presetName(p, t.locale)} (${p.type})`;
      ctx.reply.markdown(
        title,
        [
          `### ${title}`,
          t.locale === 'en' ? p.description.en : p.description.zh,
          t('push.types.queue', { queue: p.queue }),
          t('push.types.aliases', { aliases: p.aliases.join(t('list.sep')) || '-' }),
          t('push.types.required', { required: required || '-' }),
          `${t('push.types.fields')}\n${fields.join('\n')}`,
          t('push.types.example', { type: p.type, args: exampleArgs(p) }),
        ].join('\n\n'),
      );
      return;
    }
    const lines = deps.presets.list.map(
      (p) =>
        `- ${p.type}${t('help.aliasesInline', { aliases: [...new Set([presetName(p, t.locale), ...p.aliases])].slice(0, 4).join(t('list.sep')) })} → ${p.queue}`,
    );
    ctx.reply.markdown(t('push.types.title'), `### ${t('push.types.title')}\n\n${lines.join('\n')}\n\n${t('push.types.footer')}`);
  },
});

/** Reply with what a push would send, sending nothing. */
async function showDryRun(ctx: CommandContext, preset: Preset, spec: PushSpec) {
  const { t, deps } = ctx;
  const d = await dryRunPush(deps, preset, spec);
  const name = presetName(preset, t.locale);
  ctx.reply.text(`${t('push.dryRun', { type: name, count: spec.count, queue: spec.queue })}\n${JSON.stringify(d.message, null, 2)}`);
  return { data: d };
}

async function push(ctx: CommandContext, args: Record<string, unknown>) {
  const { t, deps } = ctx;
  const { type, sku, count, queue, dry, ...rest } = args as { type: string; sku?: unknown; count?: unknown; queue?: string; dry: boolean };
  let base: Record<string, string> = {};
  let template: string | undefined;
  let presetWord = type;
  if (type.startsWith('@')) {
    template = type.slice(1);
    const saved = await getTemplate(deps.db, template);
    if (!saved) throw new UserError('not_found', 'push.templateNotFound', { name: template }, 'type');
    base = saved.args;
    presetWord = saved.type;
  }
  // Template first, then what was typed now: later overrides win.
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(rest)) merged[k] = asText(v);
  const items = sku ?? merged.sku;
  const savedCount = parseCount(merged.count);
  const target = queue ?? (merged.queue as string | undefined);
  delete merged.sku;
  delete merged.count;
  delete merged.queue;
  const { preset, spec } = validatePush(deps, {
    type: presetWord,
    overrides: merged,
    items,
    count: parseCount(count) ?? savedCount,
    queue: target,
  });
  const name = presetName(preset, t.locale);
  if (dry) return showDryRun(ctx, preset, spec);
  const job = await submitPush(deps, spec, ctx.caller, { replyTo: ctx.replyTarget, template });
  ctx.reply.text(acceptedText(ctx, 'push.queued', { id: job.id, type: name, count: spec.count, queue: spec.queue }, job.id));
  return { jobId: job.id };
}

export default defineCommand({
  name: 'push',
  aliases: ['推送', '推单'],
  role: 'operator',
  positional: ['type'],
  flags: ['dry'],
  lists: ['sku'],
  args: z
    .object({
      type: example(z.string().min(1), 'refund'),
      sku: example(z.string().min(1).optional(), 'A001*2,B002'),
      // Checked by preparePush, whose message says "a whole number from 1 to PUSH_MAX_COUNT".
      count: example(z.union([z.string(), z.number()]).optional(), '5'),
      queue: example(z.string().min(1).optional(), 'oms_return_order_download_queue'),
      dry: boolArg().default(false),
    })
    .catchall(z.union([z.string(), z.number(), z.boolean()])),
  subcommands: [types, history, replay],
  examples: [
    '/push refund store=12 sku=A001*2,B002',
    '/push 退款单 门店=12 sku=A001 count=100',
    '/push order_download store=12 sku=A001*2 buyer.buyerName=张三 dry',
    '/push @daily-refund count=10',
    '/push types',
    '/push history',
    '/push replay 42',
  ],
  run: (ctx, args) => push(ctx, args as Record<string, unknown>),
});

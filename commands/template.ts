import { z } from 'zod';
import { example } from '../src/chat/args';
import { type CommandContext, defineCommand, defineSubcommand } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import { formatTime } from '../src/jobs/render';
import { findPreset } from '../src/push/prepare';
import { buildSpec, parseItems, presetName, resolveField, validFieldNames } from '../src/push/spec';
import { deleteTemplate, getTemplate, isTemplateName, listTemplates, saveTemplate, templateCommand } from '../src/push/templates';

const templateName = example(z.string().min(1).max(40), 'daily-refund');

/** Owners and admins may change or remove a template. */
function mayChange(ctx: CommandContext, owner: string): boolean {
  return ctx.caller.role === 'admin' || ctx.caller.key === owner;
}

const save = defineSubcommand({
  name: 'save',
  aliases: ['保存'],
  role: 'operator',
  positional: ['name', 'type'],
  args: z
    .object({ name: templateName, type: example(z.string().min(1), 'refund') })
    .catchall(z.union([z.string(), z.number(), z.boolean()])),
  examples: ['/template save daily-refund refund store=12 sku=A001*2 count=5'],
  async run(ctx, args) {
    const { t, deps } = ctx;
    const { name, type, ...rest } = args as { name: string; type: string } & Record<string, unknown>;
    if (!isTemplateName(name)) throw new UserError('bad_args', 'template.badName', { name }, 'name');
    const preset = findPreset(deps.presets, type, t.locale);
    const saved: Record<string, string> = {};
    for (const [k, v] of Object.entries(rest)) saved[k] = typeof v === 'string' ? v : JSON.stringify(v);
    // Check names, types, items and count now; required fields may come when the template is used.
    if (saved.sku !== undefined && !parseItems(saved.sku)) throw new UserError('bad_args', 'push.badSku', { value: saved.sku }, 'sku');
    if (saved.count !== undefined && !/^[1-9]\d*$/.test(saved.count))
      throw new UserError('bad_args', 'push.badCount', { max: deps.config.PUSH_MAX_COUNT }, 'count');
    const overrides = Object.fromEntries(Object.entries(saved).filter(([k]) => !['sku', 'count', 'queue'].includes(k)));
    for (const key of Object.keys(overrides)) {
      if (!resolveField(preset, key)) {
        throw new UserError(
          'bad_args',
          'push.unknownField',
          { field: key, type: presetName(preset, t.locale), valid: validFieldNames(preset).join(t('list.sep')) },
          key,
        );
      }
    }
    try {
      buildSpec(preset, { overrides, items: saved.sku ?? 'CHECK', count: 1 }, t.locale, deps.now());
    } catch (err) {
      // Type errors count now; a missing required field may be given when the template is used.
      if (!(err instanceof UserError) || !String(err.key).startsWith('push.rule.required')) throw err;
    }
    const existing = await getTemplate(deps.db, name);
    if (existing && !mayChange(ctx, existing.owner)) throw new UserError('forbidden', 'template.notOwner', { name, owner: existing.owner });
    const r = await saveTemplate(deps.db, { name, type: preset.type, args: saved, owner: existing?.owner ?? ctx.caller.key });
    ctx.reply.text(
      t(r.replaced ? 'template.updated' : 'template.saved', { name, command: templateCommand({ type: preset.type, args: saved }) }),
    );
  },
});

const list = defineSubcommand({
  name: 'list',
  aliases: ['列表', 'ls'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/template list'],
  async run(ctx) {
    const { t, deps } = ctx;
    const all = await listTemplates(deps.db);
    if (all.length === 0) {
      ctx.reply.text(t('template.none'));
      return;
    }
    const lines = all.map((x) => `- @${x.name}: ${templateCommand(x)} · ${x.owner} · ${formatTime(x.updatedAt)}`);
    ctx.reply.markdown(t('template.listTitle'), `### ${t('template.listTitle')}\n\n${lines.join('\n')}\n\n${t('template.useHint')}`);
  },
});

const show = defineSubcommand({
  name: 'show',
  aliases: ['查看'],
  role: 'viewer',
  positional: ['name'],
  args: z.object({ name: templateName }),
  examples: ['/template show daily-refund'],
  async run(ctx, { name }) {
    const { t, deps } = ctx;
    const x = await getTemplate(deps.db, name);
    if (!x) throw new UserError('not_found', 'push.templateNotFound', { name }, 'name');
    const preset = deps.presets.get(x.type);
    ctx.reply.text(
      t('template.detail', {
        name: x.name,
        type: preset ? presetName(preset, t.locale) : x.type,
        command: templateCommand(x),
        owner: x.owner,
        updated: formatTime(x.updatedAt),
      }),
    );
  },
});

const rm = defineSubcommand({
  name: 'rm',
  aliases: ['删除', 'delete'],
  role: 'operator',
  positional: ['name'],
  args: z.object({ name: templateName }),
  examples: ['/template rm daily-refund'],
  async run(ctx, { name }) {
    const { t, deps } = ctx;
    const x = await getTemplate(deps.db, name);
    if (!x) throw new UserError('not_found', 'push.templateNotFound', { name }, 'name');
    if (!mayChange(ctx, x.owner)) throw new UserError('forbidden', 'template.notOwner', { name, owner: x.owner });
    await deleteTemplate(deps.db, name);
    ctx.reply.text(t('template.removed', { name }));
  },
});

export default defineCommand({
  name: 'template',
  aliases: ['模板', 'tpl'],
  role: 'viewer',
  args: z.object({}),
  subcommands: [save, list, show, rm],
  examples: [
    '/template save daily-refund refund store=12 sku=A001*2',
    '/template list',
    '/template show daily-refund',
    '/template rm daily-refund',
  ],
});

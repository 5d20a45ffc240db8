import { z } from 'zod';
import { example, exampleOf } from '../src/chat/args';
import { type CommandContext, type CommandDef, defineCommand } from '../src/chat/define-command';
import { hasRole } from '../src/chat/roles';
import { hasMessage, type MessageKey } from '../src/i18n';

function argLines(ctx: CommandContext, def: CommandDef): string[] {
  const { t } = ctx;
  const lines: string[] = [];
  for (const [name, schema] of Object.entries(def.args.shape as Record<string, z.ZodType>)) {
    const probe = schema.safeParse(undefined);
    const required = !probe.success;
    const dflt = probe.success && probe.data !== undefined ? t('help.default', { value: JSON.stringify(probe.data) }) : '';
    const ex = exampleOf(schema);
    const exText = ex === undefined ? '' : t('help.argExample', { example: `${name}=${ex}` });
    const positional = def.positional?.includes(name) ? t('help.positional') : '';
    const flag = def.flags?.includes(name) ? t('help.flag', { name }) : '';
    lines.push(
      `- ${name}${required ? t('help.required') : ''}${positional}${flag}: ${t(`${def.catalogKey}.arg.${name}` as MessageKey)}${dflt}${exText}`,
    );
  }
  return lines;
}

function describe(ctx: CommandContext, def: CommandDef, title: string): string {
  const { t } = ctx;
  const parts = [`### ${title}`, t(`${def.catalogKey}.summary` as MessageKey)];
  if (def.aliases?.length) parts.push(t('help.aliases', { aliases: def.aliases.join(t('list.sep')) }));
  parts.push(t('help.role', { role: t(`role.${def.role}` as MessageKey) }));
  const args = argLines(ctx, def);
  if (hasMessage(`${def.catalogKey}.extra`)) args.push(t(`${def.catalogKey}.extra` as MessageKey));
  if (args.length) parts.push(`${t('help.args')}\n${args.join('\n')}`);
  if (def.subcommands?.length) {
    parts.push(
      `${t('help.subcommands')}\n${def.subcommands.map((s) => `- ${s.name}: ${t(`${s.catalogKey}.summary` as MessageKey)}`).join('\n')}`,
    );
  }
  parts.push(`${t('help.examples')}\n${def.examples.map((e) => `- ${e}`).join('\n')}`);
  return parts.join('\n\n');
}

export default defineCommand({
  name: 'help',
  aliases: ['帮助', 'h', '?'],
  role: 'viewer',
  positional: ['command'],
  args: z.object({ command: example(z.string().min(1).optional(), 'push') }),
  examples: ['/help', '/help push'],
  async run(ctx, { command }) {
    const { t, deps, caller } = ctx;
    const registry = deps.registry;
    if (command) {
      const [word = '', subWord] = command.replace(/^\//, '').split(/\s+/);
      const def = registry.find(word);
      if (!def) {
        const s = registry.suggest(word);
        ctx.reply.text(
          s.length
            ? t('dispatch.unknownWithSuggestion', { name: word, suggestions: s.map((x) => `/${x}`).join(t('list.sep')) })
            : t('dispatch.unknown', { name: word }),
        );
        return;
      }
      const sub = subWord ? def.subcommands?.find((x) => x.name === subWord || x.aliases?.includes(subWord)) : undefined;
      const target = sub ?? def;
      const title = sub ? `/${def.name} ${sub.name}` : `/${def.name}`;
      ctx.reply.markdown(title, describe(ctx, target, title));
      return;
    }
    const lines: string[] = [];
    for (const def of registry.commands) {
      const aliases = def.aliases?.length ? t('help.aliasesInline', { aliases: def.aliases.join(t('list.sep')) }) : '';
      const restricted = hasRole(caller.role, def.role) ? '' : t('help.needsRole', { role: t(`role.${def.role}` as MessageKey) });
      lines.push(`- /${def.name}${aliases}: ${t(`${def.catalogKey}.summary` as MessageKey)}${restricted}`);
    }
    ctx.reply.markdown(t('help.title'), `### ${t('help.title')}\n\n${lines.join('\n')}\n\n${t('help.footer')}`);
  },
});

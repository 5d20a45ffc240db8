import { z } from 'zod';
import { example } from '../src/chat/args';
import { defineCommand, defineSubcommand } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import { SourceError } from '../src/exports/drivers/types';
import { listSources, openSource } from '../src/exports/sources';

const list = defineSubcommand({
  name: 'list',
  aliases: ['列表', 'ls'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/source list'],
  async run(ctx) {
    const { t } = ctx;
    const sources = await listSources(ctx.deps);
    const lines = sources.map((s) =>
      s.kind === 'app' && s.port === 0
        ? t('source.list.embedded', { name: s.name })
        : `${t('source.list.line', { name: s.name, kind: s.kind, user: s.username, host: s.host, port: s.port, database: s.database })}${s.kind === 'app' ? ` ${t('source.list.builtin')}` : ''}`,
    );
    const title = t('source.list.title');
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}\n\n${t('source.list.footer')}`);
    return { data: sources.map(({ name, kind, host, port, database, username }) => ({ name, kind, host, port, database, username })) };
  },
});

const test = defineSubcommand({
  name: 'test',
  aliases: ['测试'],
  role: 'operator',
  positional: ['name'],
  args: z.object({ name: example(z.string().min(1), 'app') }),
  examples: ['/source test app'],
  async run(ctx, { name }) {
    const { t, deps } = ctx;
    let client: Awaited<ReturnType<typeof openSource>>;
    try {
      client = await openSource(deps, name);
    } catch (err) {
      return void ctx.reply.text(t('source.failed', { name, error: err instanceof Error ? err.message : String(err) }));
    }
    if (!client) {
      const names = (await listSources(deps)).map((s) => s.name).join(', ');
      throw new UserError('not_found', 'source.unknown', { name, names }, 'name');
    }
    try {
      const ms = await client.ping();
      ctx.reply.text(t('source.ok', { name, ms: ms.toFixed(1) }));
      return { data: { name, ok: true, ms } };
    } catch (err) {
      const msg = err instanceof SourceError || err instanceof Error ? err.message : String(err);
      ctx.reply.text(t('source.failed', { name, error: msg }));
      return { data: { name, ok: false, error: msg } };
    } finally {
      await client.close().catch(() => {});
    }
  },
});

export default defineCommand({
  name: 'source',
  aliases: ['数据源'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/source list', '/source test app'],
  subcommands: [list, test],
});

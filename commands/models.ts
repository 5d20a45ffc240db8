import { z } from 'zod';
import { defineCommand } from '../src/chat/define-command';

export default defineCommand({
  name: 'models',
  aliases: ['模型'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/models'],
  async run(ctx) {
    const { t, deps } = ctx;
    const list = deps.models.list;
    if (list.length === 0) {
      ctx.reply.text(t('models.none'));
      return { data: [] };
    }
    // Names, model ids and limits only: keys and URLs never leave the configuration.
    const lines = list.map((m) =>
      t('models.line', { name: m.name, model: m.model, concurrency: m.concurrency, rpm: m.rpm, timeout: Math.round(m.timeoutMs / 1000) }),
    );
    const title = t('models.title');
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}\n\n${t('models.footer', { first: list[0]?.name ?? '' })}`);
    return { data: list.map((m) => ({ name: m.name, model: m.model })) };
  },
});

import { z } from 'zod';
import { defineCommand } from '../src/chat/define-command';

export default defineCommand({
  name: 'ping',
  aliases: ['在吗'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/ping'],
  async run(ctx) {
    const started = performance.now();
    await ctx.deps.db.query('select 1');
    ctx.reply.text(ctx.t('cmd.ping.pong', { ms: Math.round(performance.now() - started) }));
  },
});

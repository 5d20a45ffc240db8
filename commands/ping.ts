import { z } from 'zod';
import { defineCommand } from '../src/chat/define-command';
import { createBatcher, perDatabase } from '../src/db/batch';
import type { Database } from '../src/db/client';

// Pings asked at the same time share one `select 1` (src/db/batch.ts): each still waits for a
// round trip sent after it asked, so the time it reports is a real wait for the database.
const probe = perDatabase((db: Database) =>
  createBatcher<null, null>(async (items) => {
    await db.query('select 1');
    return items.map(() => null);
  }),
);

export default defineCommand({
  name: 'ping',
  aliases: ['在吗'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/ping'],
  async run(ctx) {
    const started = performance.now();
    await probe(ctx.deps.db)(null);
    ctx.reply.text(ctx.t('cmd.ping.pong', { ms: Math.round(performance.now() - started) }));
  },
});

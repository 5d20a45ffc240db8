import { z } from 'zod';
import { defineCommand } from '../src/chat/define-command';
import type { MessageKey } from '../src/i18n';

export default defineCommand({
  name: 'whoami',
  aliases: ['我是谁'],
  role: 'viewer',
  args: z.object({}),
  examples: ['/whoami'],
  async run(ctx) {
    const { t, caller, conversation } = ctx;
    const lines = [
      t('cmd.whoami.user', { nick: caller.nick ?? '-', id: caller.staffId ?? caller.key }),
      t('cmd.whoami.role', { role: t(`role.${caller.role}` as MessageKey) }),
    ];
    if (conversation) {
      lines.push(t('cmd.whoami.conversation', { id: conversation.id, type: t(`conversation.${conversation.type}` as MessageKey) }));
    }
    if (!caller.staffId && ctx.source !== 'webhook' && ctx.source !== 'cli') lines.push(t('cmd.whoami.noStaffId'));
    ctx.reply.text(lines.join('\n'));
  },
});

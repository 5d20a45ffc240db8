import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';

// A command's replies go out once its outcome is stored; the job it started may be over sooner.
// A push with no RabbitMQ configured fails in milliseconds: its sender must still read "accepted"
// before "failed".
describe.each(DB_KINDS)('the reply that announces a job comes before anything the job says (%s)', (kind) => {
  let t: TestDb;
  let server: RunningServer;
  let chat: LocalChat;
  beforeAll(async () => {
    t = await createTestDb(kind);
    server = await testServer(t.db, { OPERATOR_STAFF_IDS: 'alice', PROGRESS_INTERVAL_MS: '0' });
    chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice' });
  });
  afterAll(async () => {
    await chat?.close();
    await server?.stop();
    await t?.drop();
  });

  it('a push that fails at once: "accepted" first, then "failed", every time', async () => {
    for (let i = 0; i < 5; i++) {
      const from = chat.replies.length;
      const sent = await chat.send('/push refund store=12 sku=A001');
      const id = sent.jobId as number;
      expect(id).toBeGreaterThan(0);
      await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('失败'), 10_000, from);
      const texts = chat.replies.slice(from).map((r) => r.text);
      const accepted = texts.findIndex((s) => s.startsWith(`已受理推送任务 #${id}`));
      const failed = texts.findIndex((s) => s.includes(`任务 #${id}`) && s.includes('失败'));
      expect({ i, accepted: accepted >= 0, inOrder: accepted < failed }).toEqual({ i, accepted: true, inOrder: true });
    }
  });
});

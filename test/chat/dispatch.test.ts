import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands';
import type { Caller } from '../../src/chat/define-command';
import { dispatch } from '../../src/chat/dispatch';
import { createRegistry } from '../../src/chat/registry';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('pglite');
});
afterAll(async () => tdb?.drop());

let n = 0;
// A fresh identity per use, so the per-user rate limit of one test does not leak into another.
const aliceCaller = (): Caller => ({ key: `alice-${++n}`, staffId: 'alice', nick: 'Alice', role: 'operator' });
const text = (r: { messages: { type: string; text?: string }[] }) => r.messages.map((m) => m.text ?? '').join('\n');

describe('dispatcher', () => {
  it('never throws and always answers, whatever is typed (property)', async () => {
    const deps = testDeps(tdb.db, { RATE_LIMIT_PER_MINUTE: '10000' });
    const words = fc.constantFrom(
      '/help',
      'help',
      '/ping',
      '/whoami',
      '/帮助',
      '在吗',
      '/pnig',
      'push',
      '/push refund',
      '/push types',
      '/template',
      '/template save',
      '/jobs',
      '/job',
      '/cancel',
      '/retry',
      '/stats',
      '/help help',
      '',
    );
    const token = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('dry', 'x=1', 'command=', 'count=-1', '“a b”', '＝', '\n'));
    await fc.assert(
      fc.asyncProperty(words, fc.array(token, { maxLength: 5 }), async (w, rest) => {
        const r = await dispatch(deps, { source: 'http', caller: aliceCaller(), text: [w, ...rest].join(' ') });
        expect(r.messages.length).toBeGreaterThan(0);
        expect(['ok', 'empty', 'unknown_command', 'bad_args', 'forbidden', 'rate_limited', 'not_found', 'conflict']).toContain(r.outcome);
      }),
      { numRuns: 300 },
    );
  });

  it('finds commands by alias, including Chinese aliases', async () => {
    const deps = testDeps(tdb.db);
    for (const word of ['/帮助', '帮助', '/h', '/HELP']) {
      const r = await dispatch(deps, { source: 'http', caller: aliceCaller(), text: word });
      expect(r.command, word).toBe('help');
    }
    expect((await dispatch(deps, { source: 'http', caller: aliceCaller(), text: '在吗' })).command).toBe('ping');
  });

  it('checks the role before anything else', async () => {
    const deps = { ...testDeps(tdb.db), registry: createRegistry(commands) };
    const viewer: Caller = { key: 'v', role: 'viewer' };
    // A stand-in admin-only definition shows the check in isolation (a handler that must not run);
    // test/http/viewer-access.test.ts checks every shipped operator/admin command and route.
    const { defineCommand } = await import('../../src/chat/define-command');
    const { z } = await import('zod');
    const secret = defineCommand({
      name: 'help',
      role: 'admin',
      args: z.object({}),
      examples: ['/help'],
      run: async (c) => c.reply.text('ran'),
    });
    const d2 = { ...deps, registry: createRegistry([secret]) };
    const denied = await dispatch(d2, { source: 'http', caller: viewer, text: '/help' });
    expect(denied.outcome).toBe('forbidden');
    expect(text(denied)).toContain('管理员');
    expect(text(denied)).not.toContain('ran');
    const allowed = await dispatch(d2, { source: 'http', caller: { key: 'a', role: 'admin' }, text: '/help' });
    expect(text(allowed)).toBe('ran');
  });

  it('limits each user per minute, counted in the database', async () => {
    const deps = testDeps(tdb.db, { RATE_LIMIT_PER_MINUTE: '2' });
    const caller: Caller = { key: 'rl-user', role: 'operator' };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await dispatch(deps, { source: 'http', caller, text: '/ping' })).outcome);
    expect(outcomes).toEqual(['ok', 'ok', 'rate_limited']);
    const other = await dispatch(deps, { source: 'http', caller: { key: 'someone-else', role: 'operator' }, text: '/ping' });
    expect(other.outcome).toBe('ok');
    // The local CLI is not limited.
    expect((await dispatch(deps, { source: 'cli', caller, text: '/ping', rateLimit: false })).outcome).toBe('ok');
  });

  it('speaks English with LOCALE=en', async () => {
    const deps = testDeps(tdb.db, { LOCALE: 'en' });
    const r = await dispatch(deps, { source: 'http', caller: aliceCaller(), text: '/pnig' });
    expect(text(r)).toBe('There is no command "pnig". Did you mean /ping? Send /help to see every command.');
    const help = await dispatch(deps, { source: 'http', caller: aliceCaller(), text: '/help' });
    expect(text(help)).toContain('Commands');
  });

  it('reports a failing command with a reference, not a stack trace', async () => {
    const { defineCommand } = await import('../../src/chat/define-command');
    const { z } = await import('zod');
    const boom = defineCommand({
      name: 'boom',
      role: 'viewer',
      args: z.object({}),
      examples: ['/boom'],
      run: async () => {
        throw new Error('database exploded at line 42');
      },
    });
    // 'boom' has no catalog entry: the registry refuses it at boot…
    expect(() => createRegistry([boom])).toThrow(/catalog has no "cmd.boom.summary"/);
    // …so borrow a documented name to run it.
    const deps = { ...testDeps(tdb.db), registry: createRegistry([{ ...boom, name: 'ping', catalogKey: 'cmd.ping' }]) };
    const r = await dispatch(deps, { source: 'http', caller: aliceCaller(), text: '/ping' });
    expect(r.outcome).toBe('error');
    expect(text(r)).toMatch(/参考号 [0-9a-f]{8}/);
    expect(text(r)).not.toContain('line 42');
    expect(r.error).toContain('line 42');
  });

  it('rejects bad definitions at boot', async () => {
    const { defineCommand } = await import('../../src/chat/define-command');
    const { z } = await import('zod');
    expect(() => defineCommand({ name: '/push', role: 'viewer', args: z.object({}), examples: ['x'], run: async () => {} })).toThrow(
      /without a slash/,
    );
    expect(() =>
      defineCommand({ name: 'x', role: 'viewer', positional: ['nope'], args: z.object({}), examples: ['x'], run: async () => {} }),
    ).toThrow(/not an argument/);
    const a = defineCommand({ name: 'ping', aliases: ['p'], role: 'viewer', args: z.object({}), examples: ['x'], run: async () => {} });
    const b = defineCommand({ name: 'whoami', aliases: ['p'], role: 'viewer', args: z.object({}), examples: ['x'], run: async () => {} });
    expect(() => createRegistry([a, b])).toThrow(/"p" is used by ping and whoami/);
  });
});

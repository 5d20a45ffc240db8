import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands';
import type { CommandSpec } from '../../src/chat/define-command';
import { dispatch } from '../../src/chat/dispatch';
import type { Deps } from '../../src/deps';
import { submitPush, validatePush } from '../../src/push/submit-push';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';

// Every example the push help shows must run: the examples of /push and /template and their
// subcommands (/help push, /help template), the example /push types prints for each order type, and
// the example in the "no items" reply. Pushes run as dry runs; nothing is published.
let tdb: TestDb;
let deps: Deps;
const alice = { key: 'alice', staffId: 'alice', nick: 'Alice', role: 'operator' as const };

beforeAll(async () => {
  tdb = await createTestDb('pglite');
  deps = testDeps(tdb.db, { RATE_LIMIT_PER_MINUTE: '10000' });
  // `/push replay 42` replays job 42: make it one of alice's pushes.
  await tdb.db.query(`select setval('jobs_id_seq', 41)`);
  const { spec } = validatePush(deps, { type: 'refund', overrides: { store: '12' }, items: 'A001', count: 2 });
  expect((await submitPush(deps, spec, alice)).id).toBe(42);
});
afterAll(async () => tdb?.drop());

const say = (text: string) => dispatch(deps, { source: 'http', caller: alice, text });
const replyText = (r: { messages: { text?: string }[] }) => r.messages.map((m) => m.text ?? '').join('\n');

/** A push example as a dry run; other commands as typed. */
function asDryRun(example: string): string {
  const words = example.split(/\s+/);
  const isPush = words[0] === '/push' && !['types', 'history', 'replay'].includes(words[1] ?? '');
  const isReplay = words[0] === '/push' && words[1] === 'replay';
  return (isPush || isReplay) && !words.includes('dry') ? `${example} dry` : example;
}

async function expectRuns(example: string) {
  const r = await say(asDryRun(example));
  expect(r.outcome, `${example}: ${replyText(r)}`).toBe('ok');
  return r;
}

function examplesOf(name: string): string[] {
  const def = commands.find((c) => c.name === name) as CommandSpec;
  return [...new Set([...def.examples, ...(def.subcommands ?? []).flatMap((s) => s.examples)])];
}

describe('examples shown by help and replies', () => {
  it('every /template and /push example runs (templates first: /push @daily-refund uses one)', async () => {
    const template = examplesOf('template');
    const rm = template.filter((e) => e.startsWith('/template rm'));
    for (const e of template.filter((x) => !rm.includes(x))) await expectRuns(e);
    const push = examplesOf('push');
    expect(push.length).toBeGreaterThan(5);
    for (const e of push) await expectRuns(e);
    for (const e of rm) await expectRuns(e);
    // Nothing was pushed: the only push job is the one made for `/push replay 42`.
    const [row] = await tdb.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind = 'order_push'`);
    expect(row?.n).toBe(1);
  });

  it.each(['zh-CN', 'en'])('the example /push types shows for every order type runs (%s)', async (locale) => {
    const local = testDeps(tdb.db, { RATE_LIMIT_PER_MINUTE: '10000', LOCALE: locale });
    for (const p of deps.presets.list) {
      const shown = replyText(await dispatch(local, { source: 'http', caller: alice, text: `/push types ${p.type}` }));
      const example = /(\/push \S+ .*)$/m.exec(shown.split('\n').find((l) => /^(例如|Example)/.test(l)) ?? '')?.[1];
      expect(example, `${p.type}: ${shown}`).toBeDefined();
      await expectRuns(example as string);
      // Required lists only what the user must give: never a generated order number.
      const required = shown.split('\n').find((l) => /^(必填|Required)/.test(l)) ?? '';
      expect(required, p.type).not.toContain(p.orderNoPath);
    }
  });

  it('the example in the "no items" reply runs, for every order type', async () => {
    for (const p of deps.presets.list) {
      const r = await say(`/push ${p.type}`);
      expect(r.outcome).toBe('bad_args');
      const example = /(\/push \S+ .*?)(。|$)/m.exec(replyText(r).split(/例如：/)[1] ?? '')?.[1];
      expect(example, `${p.type}: ${replyText(r)}`).toBeDefined();
      await expectRuns(example as string);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { checkCron, firesBetween, isValidZone, nextFires } from '../../src/schedules/cron';
import { describeCron, describeSimple } from '../../src/schedules/describe';
import { nextFireOf } from '../../src/schedules/next-fire';
import { ON_TIME_MS, planDue } from '../../src/schedules/plan';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('next fire times (pure, fixed clock)', () => {
  it('a weekday 09:00 schedule in Beijing time skips the weekend', () => {
    // Friday 2026-11-27 10:00 Beijing = 02:00 UTC.
    const after = new Date('2026-11-27T02:00:00Z');
    expect(iso(nextFires('0 9 * * 1-5', 'Asia/Shanghai', after, 3))).toEqual([
      '2026-11-30T01:00:00.000Z', // Monday 09:00 +08:00
      '2026-12-01T01:00:00.000Z',
      '2026-12-02T01:00:00.000Z',
    ]);
  });

  it('the same wall-clock time lands on different instants in different zones', () => {
    const after = new Date('2026-11-25T00:00:00Z');
    const at = (zone: string) => nextFires('0 9 * * *', zone, after, 1)[0]?.toISOString();
    expect(at('Asia/Shanghai')).toBe('2026-11-25T01:00:00.000Z');
    expect(at('Europe/Berlin')).toBe('2026-11-25T08:00:00.000Z');
    expect(at('America/New_York')).toBe('2026-11-25T14:00:00.000Z');
    expect(at('UTC')).toBe('2026-11-25T09:00:00.000Z');
  });

  it('a daily 09:00 in Berlin keeps its wall-clock time across the end of summer time', () => {
    // Summer time ends 2026-10-25 03:00 CEST -> 02:00 CET: 09:00 is 07:00Z before, 08:00Z after.
    expect(iso(nextFires('0 9 * * *', 'Europe/Berlin', new Date('2026-10-23T12:00:00Z'), 3))).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
    ]);
  });

  it('a fixed time inside the spring-forward gap runs right after the gap, once', () => {
    // 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
    const fires = nextFires('30 2 * * *', 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'), 3);
    expect(iso(fires)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('a fixed time that occurs twice (fall back) runs once', () => {
    // 2026-11-01 in New York: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    const fires = nextFires('30 1 * * *', 'America/New_York', new Date('2026-10-31T12:00:00Z'), 2);
    expect(iso(fires)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('Beijing time has no daylight saving: 09:00 is always 01:00Z', () => {
    const fires = nextFires('0 9 * * *', 'Asia/Shanghai', new Date('2026-03-07T00:00:00Z'), 60);
    expect(new Set(fires.map((d) => d.toISOString().slice(11)))).toEqual(new Set(['01:00:00.000Z']));
  });

  it('enumerates fires in a window, newest kept under the cap, with the total', () => {
    const from = new Date('2026-11-25T00:00:00Z');
    const to = new Date('2026-11-25T00:00:10Z');
    const all = firesBetween('* * * * * *', 'UTC', from, to);
    expect(all.total).toBe(10);
    expect(all.fires[0]?.toISOString()).toBe('2026-11-25T00:00:01.000Z');
    const capped = firesBetween('* * * * * *', 'UTC', from, to, 3);
    expect(capped.total).toBe(10);
    expect(iso(capped.fires)).toEqual(['2026-11-25T00:00:08.000Z', '2026-11-25T00:00:09.000Z', '2026-11-25T00:00:10.000Z']);
  });

  it('next fire of date, manual and paused schedules', () => {
    const now = new Date('2026-11-25T00:00:00Z');
    const base = { cron: null, timezone: 'Asia/Shanghai', runAt: null, state: 'active' as const };
    expect(nextFireOf({ ...base, type: 'manual' }, now)).toBeNull();
    expect(nextFireOf({ ...base, type: 'date', runAt: new Date('2026-11-26T00:00:00Z') }, now)?.toISOString()).toBe(
      '2026-11-26T00:00:00.000Z',
    );
    expect(nextFireOf({ ...base, type: 'date', runAt: new Date('2026-11-24T00:00:00Z') }, now)).toBeNull();
    expect(nextFireOf({ ...base, type: 'cron', cron: '0 9 * * *', state: 'paused' }, now)).toBeNull();
  });
});

describe('validation', () => {
  it.each([
    ['0 9 * * 1-5', true],
    ['*/5 * * * * *', true],
    ['0 25 * * *', false],
    ['0 9 * *', false],
    ['every day', false],
    ['61 * * * *', false],
  ])('cron %s valid=%s', (expr, ok) => {
    expect(checkCron(expr).ok).toBe(ok);
  });

  it('zones', () => {
    expect(isValidZone('Asia/Shanghai')).toBe(true);
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    expect(isValidZone('+08:00')).toBe(false);
  });
});

describe('in words', () => {
  it.each([
    ['0 9 * * 1-5', 'zh-CN', '每个工作日 09:00'],
    ['0 9 * * 1-5', 'en', 'Every weekday at 09:00'],
    ['30 8 * * *', 'zh-CN', '每天 08:30'],
    ['0 10 * * 1', 'zh-CN', '每周一 10:00'],
    ['*/5 * * * *', 'zh-CN', null],
  ] as const)('%s (%s)', (expr, locale, text) => {
    expect(describeSimple(expr, locale)).toBe(text);
  });

  it('adds the zone, and falls back to cronstrue for other shapes', async () => {
    expect(await describeCron('0 9 * * 1-5', 'Asia/Shanghai', 'zh-CN')).toBe('每个工作日 09:00（北京时间）');
    expect(await describeCron('0 9 * * 1-5', 'Asia/Shanghai', 'en')).toBe('Every weekday at 09:00 (Beijing time)');
    expect(await describeCron('*/5 * * * *', 'Europe/Berlin', 'zh-CN')).toBe('每隔 5 分钟（Europe/Berlin）');
    expect(await describeCron('*/5 * * * *', 'UTC', 'en')).toBe('Every 5 minutes (UTC)');
  });
});

describe('what happens to due fires', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms);

  it('on-time fires each run', () => {
    const plan = planDue([ago(2000), ago(1000), ago(0)], now, 60);
    expect(plan.map((p) => p.action)).toEqual(['fire', 'fire', 'fire']);
  });

  it('after downtime: the newest fire within the grace period runs once, older ones are missed', () => {
    const plan = planDue([ago(600_000), ago(300_000), ago(120_000), ago(60_000)], now, 180);
    expect(plan.map((p) => [p.at.getTime() - now, p.action, p.reason])).toEqual([
      [-600_000, 'missed', 'scheduled'],
      [-300_000, 'missed', 'scheduled'],
      [-120_000, 'missed', 'scheduled'],
      [-60_000, 'fire', 'catch_up'],
    ]);
  });

  it('after downtime: nothing within the grace period -> all missed', () => {
    const plan = planDue([ago(600_000), ago(300_000)], now, 60);
    expect(plan.every((p) => p.action === 'missed')).toBe(true);
  });

  it('a late fire is not caught up when a fire ran on time anyway', () => {
    const plan = planDue([ago(60_000), ago(ON_TIME_MS - 1)], now, 3600);
    expect(plan.map((p) => p.action)).toEqual(['missed', 'fire']);
  });
});

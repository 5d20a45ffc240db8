import { describe, expect, it } from 'vitest';
import { createZoneClock, exactNumber, parseInstant, toCell, wallTime } from '../../src/exports/cells';
import { csvField } from '../../src/exports/csv-sink';
import { bindNamed } from '../../src/exports/named-params';
import { coerceParam, ParamError, resolveParams, resolveRelativeDate } from '../../src/exports/params';
import { exportFileName } from '../../src/exports/run-export';
import { createSecretBox, SecretsKeyError } from '../../src/exports/secret-box';
import { columnWidth } from '../../src/exports/xlsx-sink';

describe('bindNamed', () => {
  it.each([
    ['select * from t where d = :date and s = :store', 'postgres', 'select * from t where d = $1 and s = $2', ['date', 'store']],
    ['select :a, :b, :a', 'postgres', 'select $1, $2, $1', ['a', 'b']],
    ['select :a, :b, :a', 'mysql', 'select ?, ?, ?', ['a', 'b', 'a']],
    [
      'select \':not\' as x, "col:y", d::date from t where x = :x -- :c\n/* :d */',
      'postgres',
      'select \':not\' as x, "col:y", d::date from t where x = $1 -- :c\n/* :d */',
      ['x'],
    ],
    ["select $q$ :z $q$, 'it''s :no' , :yes", 'postgres', "select $q$ :z $q$, 'it''s :no' , $1", ['yes']],
    ["select 'a\\' :no', `c:d`, :yes", 'mysql', "select 'a\\' :no', `c:d`, ?", ['yes']],
    ["select '2024-01-01 10:00:00'::timestamp, :t::date", 'postgres', "select '2024-01-01 10:00:00'::timestamp, $1::date", ['t']],
  ])('%s (%s)', (sql, style, text, order) => {
    const b = bindNamed(sql, style as 'postgres');
    expect(b.text).toBe(text);
    expect(b.order).toEqual(order);
  });
});

describe('relative dates and parameters', () => {
  // 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Shanghai (a Monday).
  const now = Date.UTC(2026, 2, 1, 17, 30);
  it.each([
    ['today', '2026-03-02', '2026-03-01'],
    ['yesterday', '2026-03-01', '2026-02-28'],
    ['tomorrow', '2026-03-03', '2026-03-02'],
    ['week_start', '2026-03-02', '2026-02-23'],
    ['last_week_start', '2026-02-23', '2026-02-16'],
    ['last_week_end', '2026-03-01', '2026-02-22'],
    ['month_start', '2026-03-01', '2026-03-01'],
    ['month_end', '2026-03-31', '2026-03-31'],
    ['last_month_start', '2026-02-01', '2026-02-01'],
    ['last_month_end', '2026-02-28', '2026-02-28'],
    ['year_start', '2026-01-01', '2026-01-01'],
    ['last_year_end', '2025-12-31', '2025-12-31'],
    ['today-7', '2026-02-23', '2026-02-22'],
    ['today+1', '2026-03-03', '2026-03-02'],
  ])('%s in Asia/Shanghai and UTC', (word, shanghai, utc) => {
    expect(resolveRelativeDate(word, now, 'Asia/Shanghai')).toBe(shanghai);
    expect(resolveRelativeDate(word, now, 'UTC')).toBe(utc);
  });
  it('coerces by type and says what was expected', () => {
    expect(coerceParam({ name: 'n', type: 'int' }, '42', now, 'UTC')).toBe(42);
    expect(coerceParam({ name: 'b', type: 'bool' }, '是', now, 'UTC')).toBe(true);
    expect(coerceParam({ name: 'd', type: 'datetime' }, '2024-01-02 03:04', now, 'UTC')).toBe('2024-01-02 03:04:00');
    expect(() => coerceParam({ name: 'd', type: 'date' }, "2024-01-01'; drop table x; --", now, 'UTC')).toThrow(ParamError);
    expect(() => coerceParam({ name: 'd', type: 'date' }, '2024-02-30', now, 'UTC')).toThrow(/YYYY-MM-DD/);
    expect(() => coerceParam({ name: 'n', type: 'int' }, '4x', now, 'UTC')).toThrow(/whole number/);
  });
  it('fills defaults, refuses unknown names and missing required ones', () => {
    const specs = [
      { name: 'date', type: 'date' as const, default: 'yesterday' },
      { name: 'store', type: 'string' as const, required: true },
      { name: 'opt', type: 'int' as const },
    ];
    expect(resolveParams(specs, { store: 'A' }, now, 'Asia/Shanghai')).toEqual({ date: '2026-03-01', store: 'A', opt: null });
    expect(() => resolveParams(specs, {}, now, 'UTC')).toThrow(/store/);
    expect(() => resolveParams(specs, { store: 'A', shop: '1' }, now, 'UTC')).toThrow(
      /shop: expected one of the task's parameters \(date, store, opt\)/,
    );
  });
});

describe('cells', () => {
  it.each([
    ['12.50', 12.5],
    ['-0.0001', -0.0001],
    ['9007199254740991', 9007199254740991],
    ['9007199254740993', '9007199254740993'],
    ['12345678901234567890.1234567890', '12345678901234567890.1234567890'],
    ['0.1000000000', 0.1],
    ['123456789012345.6', 123456789012345.6],
    ['1234567890123456.78', '1234567890123456.78'],
    ['NaN', 'NaN'],
  ])('exactNumber(%s)', (s, want) => {
    expect(exactNumber(s)).toBe(want);
  });
  it('parses instants as the servers print them and shows them in the zone', () => {
    expect(parseInstant('2024-03-01 00:30:00+00')).toBe(Date.UTC(2024, 2, 1, 0, 30));
    expect(parseInstant('2024-03-01 08:30:00.250+08')).toBe(Date.UTC(2024, 2, 1, 0, 30, 0, 250));
    expect(parseInstant('2024-03-01 06:00:00+05:30')).toBe(Date.UTC(2024, 2, 1, 0, 30));
    // The by-position path and the general one agree on every shape Postgres prints.
    for (const s of [
      '2024-02-29 23:59:59-03:30',
      '1999-12-31 00:00:00.123456+00',
      '2024-01-01 10:00:00.999999-00',
      '2024-06-01 12:00:00.5-09',
    ]) {
      const iso = s
        .replace(' ', 'T')
        .replace(/(\.\d{3})\d+/, '$1')
        .replace(/([+-]\d{2})$/, '$1:00');
      expect(parseInstant(s), s).toBe(Date.parse(iso));
    }
    expect(parseInstant('0044-03-15 12:00:00+00 BC')).toBeUndefined();
    expect(toCell('2024-03-01 00:30:00+00', 'timestamptz', 'Asia/Shanghai')).toEqual(new Date(Date.UTC(2024, 2, 1, 8, 30)));
    expect(toCell('2024-02-29', 'date', 'UTC')).toEqual(new Date(Date.UTC(2024, 1, 29)));
    expect(toCell(null, 'text', 'UTC')).toBeNull();
    expect(toCell({ a: 1 }, 'json', 'UTC')).toBe('{"a":1}');
  });
  it('the zone clock agrees with Intl across a DST switch', () => {
    const clock = createZoneClock('Europe/Berlin');
    for (let t = Date.UTC(2024, 2, 30, 20); t < Date.UTC(2024, 2, 31, 6); t += 7 * 60_000) {
      expect(clock(t)).toEqual(wallTime(t, 'Europe/Berlin'));
    }
  });
  it('column widths count CJK double and stay within 8–60', () => {
    expect(columnWidth('id', [1, 2])).toBe(8);
    expect(columnWidth('名称', ['中文名称很长的一段'])).toBe(20);
    expect(columnWidth('x', ['a'.repeat(500)])).toBe(60);
  });
  it('csv fields are quoted only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\n')).toBe('"say ""hi""\n"');
  });
});

describe('file names and the secret box', () => {
  it('fills the file-name pattern in the task zone', () => {
    const name = exportFileName(
      { name: 'daily', fileName: '{task}_{date}_{store}', format: 'xlsx', timezone: 'Asia/Shanghai' },
      { store: 'A/1' },
      Date.UTC(2026, 2, 1, 17, 30),
    );
    expect(name).toBe('daily_2026-03-02_A_1.xlsx');
  });
  it('seals with AES-256-GCM and refuses another key clearly', () => {
    const a = createSecretBox({ SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_DIR: '/nonexistent' });
    const b = createSecretBox({ SECRETS_KEY: Buffer.alloc(32, 2).toString('hex'), DATA_DIR: '/nonexistent' });
    const sealed = a.encrypt('pa55-秘密');
    expect(sealed).not.toContain('pa55');
    expect(a.decrypt(sealed)).toBe('pa55-秘密');
    expect(a.encrypt('x')).not.toBe(a.encrypt('x'));
    expect(() => b.decrypt(sealed)).toThrow(SecretsKeyError);
    expect(() => b.decrypt(sealed)).toThrow(/SECRETS_KEY/);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    expect(() => a.decrypt(tampered)).toThrow(SecretsKeyError);
    expect(() => createSecretBox({ SECRETS_KEY: 'short', DATA_DIR: '/x' }).encrypt('x')).toThrow(/32 bytes/);
  });
});

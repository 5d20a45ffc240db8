import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../../src/exports/run-export';
import { taskInput } from '../../src/exports/task-schema';
import { filePath, getFile } from '../../src/files';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';

// Rows past the per-sheet limit continue on the next sheet, none lost or repeated; on the embedded
// database (PGlite) and on Postgres, through the built-in `app` source.
describe.each(DB_KINDS)('sheet split on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('25 rows at 10 per sheet make sheets of 10, 10 and 5, in order', async () => {
    const deps = testDeps(t.db);
    const task = {
      ...taskInput.parse({
        name: 'split',
        source: 'app',
        sql: `select g as n, '行 ' || g as label from generate_series(1, :last) g order by g`,
        params: [{ name: 'last', type: 'int' }],
        sheet: '明细',
      }),
      targets: [],
    };
    const out = await runExport(deps, task, { last: 25 }, { maxRowsPerSheet: 10 });
    expect(out).toMatchObject({ rows: 25, sheets: 3, truncated: false });
    const rec = await getFile(t.db, out.file.id);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(filePath(deps, rec as never)) as never);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['明细', '明细 (2)', '明细 (3)']);
    const seen: number[] = [];
    for (const ws of wb.worksheets) {
      expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(['n', 'label']);
      for (let r = 2; r <= ws.rowCount; r++) {
        const [n, label] = (ws.getRow(r).values as unknown[]).slice(1);
        expect(label).toBe(`行 ${n}`);
        seen.push(Number(n));
      }
    }
    expect(wb.worksheets.map((w) => w.rowCount - 1)).toEqual([10, 10, 5]);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it("keeps each column's type from the app source: a date is that day, an instant is shown in the task's zone", async () => {
    const deps = testDeps(t.db);
    const task = {
      ...taskInput.parse({
        name: 'types',
        source: 'app',
        sql: `select date '2026-12-07' as d, timestamp '2026-12-07 10:11:12' as ts, timestamptz '2026-12-07 10:11:12+00' as tz, 7 as n, 7 as n`,
      }),
      targets: [],
    };
    const out = await runExport(deps, task, {});
    const rec = await getFile(t.db, out.file.id);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(filePath(deps, rec as never)) as never);
    const ws = wb.worksheets[0] as ExcelJS.Worksheet;
    expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(['d', 'ts', 'tz', 'n', 'n']); // both n kept
    const row = ws.getRow(2);
    expect(row.getCell(1).value).toEqual(new Date(Date.UTC(2026, 11, 7)));
    expect(row.getCell(1).numFmt).toBe('yyyy-mm-dd');
    expect(row.getCell(2).value).toEqual(new Date(Date.UTC(2026, 11, 7, 10, 11, 12)));
    expect(row.getCell(3).value).toEqual(new Date(Date.UTC(2026, 11, 7, 18, 11, 12))); // Asia/Shanghai
    expect(row.getCell(3).numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect([row.getCell(4).value, row.getCell(5).value]).toEqual([7, 7]);
  });

  it('stops at the row limit and says so', async () => {
    const deps = testDeps(t.db);
    const task = {
      ...taskInput.parse({ name: 'cap', source: 'app', sql: 'select g from generate_series(1, 5000) g', rowLimit: 1234, format: 'csv' }),
      targets: [],
    };
    const out = await runExport(deps, task, {});
    expect(out).toMatchObject({ rows: 1234, truncated: true });
    const rec = await getFile(t.db, out.file.id);
    const lines = readFileSync(filePath(deps, rec as never), 'utf8')
      .trim()
      .split('\r\n');
    expect(lines.length).toBe(1235);
    expect(lines.at(-1)).toBe('1234');
  });
});

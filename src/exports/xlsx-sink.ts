import type { CellValue, Column } from './cells';
import { NUM_FMT } from './cells';
import { fullGc } from './heap';
import { lazyImport } from './lazy';

/** Excel's rows per sheet (1,048,576) minus the header row. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;

/** Where rows go: an .xlsx or .csv file being written. */
export interface RowSink {
  add(rows: CellValue[][]): Promise<void>;
  /** Finish the file; resolves when it is complete on disk. Returns the sheets written. */
  finish(): Promise<{ sheets: number }>;
}

/** Column width for a header and sample values: East Asian characters count double, 8–60 wide. */
export function columnWidth(header: string, samples: CellValue[]): number {
  const len = (s: string) => [...s].reduce((n, ch) => n + ((ch.codePointAt(0) ?? 0) > 0x2e80 ? 2 : 1), 0);
  let w = len(header);
  for (const v of samples) {
    const s = v instanceof Date ? '2024-01-01 00:00:00' : v === null ? '' : String(v);
    w = Math.max(w, len(s));
  }
  return Math.max(8, Math.min(60, w + 2));
}

type Writer = import('exceljs').stream.xlsx.WorkbookWriter;
type Sheet = import('exceljs').Worksheet;
type Piped = { _pipe(chunk: unknown): Promise<void> };

/**
 * An .xlsx written row by row with exceljs's streaming WorkbookWriter: typed cells, a bold frozen
 * header, column widths from the first rows, a new sheet every `maxRowsPerSheet` rows.
 *
 * Memory: the sheet's StreamBuf (batch mode) hands each 64 KB chunk to the zip without waiting,
 * so rows outrun deflate and chunks pile up outside the JS heap (~0.5 KB/row). We count those
 * chunk writes in flight and wait while more than `maxInFlight` are pending: backpressure keeps
 * the writer flat (see bench/export.ts). What remains is garbage: ~60 MB of dead rows and XML
 * and ~30 MB of Buffers that V8 lets pile up before it collects on its own; a full collection
 * every `gcEveryRows` rows keeps the peak near the live set.
 */
export async function createXlsxSink(opts: {
  path: string;
  sheet: string;
  columns: Column[];
  sample: CellValue[][];
  maxRowsPerSheet?: number;
  maxInFlight?: number;
  /** Rows between full collections (see `fullGc`): 25,000 keeps a million-row export near 170 MB for ~2% of its speed. */
  gcEveryRows?: number;
}): Promise<RowSink> {
  const ExcelJS = (await lazyImport<{ default: typeof import('exceljs') }>('exceljs')).default;
  const wb: Writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: opts.path, useStyles: true, useSharedStrings: false });
  const perSheet = opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
  const maxInFlight = opts.maxInFlight ?? 2;
  const widths = opts.columns.map((c, i) =>
    columnWidth(
      c.name,
      opts.sample.map((r) => r[i] ?? null),
    ),
  );
  // One style object per column, shared by all its cells: exceljs caches a style's id by object
  // identity, so a fresh object per cell (its default) costs a style serialisation per cell.
  const plain = {};
  const styles = opts.columns.map((c) => {
    const numFmt = NUM_FMT[c.kind];
    return numFmt ? { numFmt } : plain;
  });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let sheets = 0;
  let ws: Sheet | undefined;
  let inSheet = 0;
  let sinceGc = 0;
  const gcEvery = opts.gcEveryRows ?? 25_000;

  const openSheet = () => {
    sheets += 1;
    const name = sheets === 1 ? opts.sheet : `${opts.sheet.slice(0, 26)} (${sheets})`;
    const sheet = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = widths.map((width) => ({ width }));
    // Count the zip writes this sheet's stream has in flight (see above).
    const stream = (sheet as unknown as { stream: Piped }).stream;
    if (typeof stream?._pipe !== 'function')
      throw new Error('exceljs internals changed: WorksheetWriter.stream._pipe is missing (pin exceljs 4.4.x)');
    const original = stream._pipe.bind(stream);
    stream._pipe = (chunk) => {
      inFlight += 1;
      return original(chunk).finally(() => {
        inFlight -= 1;
        if (inFlight <= maxInFlight) wake?.();
      });
    };
    const header = sheet.addRow(opts.columns.map((c) => c.name));
    header.font = { bold: true, color: { argb: 'FFFFFFFF' } };
    header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF305496' } };
    header.commit();
    ws = sheet;
    inSheet = 0;
  };

  return {
    async add(rows) {
      for (const values of rows) {
        if (!ws || inSheet >= perSheet) {
          ws?.commit();
          openSheet();
        }
        const row = (ws as Sheet).addRow(values);
        for (let i = 0; i < styles.length; i++) {
          (row.getCell(i + 1) as { style: object }).style = values[i] instanceof Date ? (styles[i] as object) : plain;
        }
        row.commit();
        inSheet += 1;
        if (++sinceGc >= gcEvery) {
          sinceGc = 0;
          fullGc();
        }
        if (inFlight > maxInFlight) {
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      }
    },
    async finish() {
      if (!ws) openSheet();
      ws?.commit();
      await wb.commit();
      return { sheets };
    },
  };
}

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
  // Style ids for date cells, registered once with the workbook's styles: a column's own format,
  // or exceljs's default date format for a Date in a column of another kind.
  const ValueTypeDate = ExcelJS.ValueType.Date;
  const styles = (wb as unknown as { styles: { addStyleModel(model: object, type: number): number } }).styles;
  if (typeof styles?.addStyleModel !== 'function')
    throw new Error('exceljs internals changed: WorkbookWriter.styles.addStyleModel is missing (pin exceljs 4.4.x)');
  const dateStyle = opts.columns.map((c) => {
    const numFmt = NUM_FMT[c.kind];
    return styles.addStyleModel(numFmt ? { numFmt } : {}, ValueTypeDate);
  });
  const letters = opts.columns.map((_, i) => columnLetter(i));
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
        // The row as sheet XML, written straight to the sheet's stream (the header went through
        // exceljs, which opened <sheetData>): the same cells exceljs's row writer produces, without
        // its Row/Cell objects and XML builder, which were half the export's CPU with the garbage they
        // made. (One write per row measured faster than one per batch: 45k against 36k rows/s.)
        inSheet += 1;
        (ws as unknown as { stream: { write(s: string): void } }).stream.write(rowXml(values, inSheet + 1, letters, dateStyle));
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

/** A, B, … Z, AA, AB, …: the column's letters in a cell reference. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let out = '';
  while (n > 0) {
    const m = (n - 1) % 26;
    out = String.fromCharCode(65 + m) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

// Characters XML text must escape, and the control characters XML 1.0 cannot carry (dropped, as exceljs does).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const NEEDS_ESCAPE = /[<>&'"\x7F\x00-\x08\x0B\x0C\x0E-\x1F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const ESCAPE_ALL = /[<>&'"\x7F\x00-\x08\x0B\x0C\x0E-\x1F]/g;
const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' };

/** Text as XML character data. */
export function xmlText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPE_ALL, (ch) => ESCAPES[ch] ?? '');
}

const MS_PER_DAY = 86_400_000;

/**
 * One data row as SpreadsheetML, the way exceljs's row writer renders it: numbers as `<v>`, text as
 * `t="str"`, booleans as `t="b"`, dates as serial days with the column's date style; NULL leaves the
 * cell out.
 */
export function rowXml(values: readonly CellValue[], r: number, letters: readonly string[], dateStyle: readonly number[]): string {
  let xml = `<row r="${r}">`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const ref = `${letters[i]}${r}`;
    if (typeof v === 'number') xml += `<c r="${ref}"><v>${v}</v></c>`;
    else if (typeof v === 'string') xml += `<c r="${ref}" t="str"><v>${xmlText(v)}</v></c>`;
    else if (typeof v === 'boolean') xml += `<c r="${ref}" t="b"><v>${v ? 1 : 0}</v></c>`;
    else xml += `<c r="${ref}" s="${dateStyle[i]}"><v>${25569 + v.getTime() / MS_PER_DAY}</v></c>`;
  }
  return `${xml}</row>`;
}

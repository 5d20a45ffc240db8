import { rm } from 'node:fs/promises';
import { type FileDeps, type StoredFile, storeFile, tempFilePath } from '../files';
import { fillTemplate } from '../i18n';
import { type CellValue, type Column, createZoneClock, toCell } from './cells';
import { createCsvSink } from './csv-sink';
import { bindNamed } from './named-params';
import { dateInZone } from './params';
import { openSource, type SourceDeps } from './sources';
import type { TaskSpec } from './task-schema';
import { createXlsxSink, type RowSink } from './xlsx-sink';

export type ExportDeps = SourceDeps & FileDeps;
type Values = Record<string, string | number | boolean | null>;

/** Rows per cursor fetch. */
export const BATCH_ROWS = 500;

/** Thrown when the task names a source that does not exist. */
export class UnknownSourceError extends Error {
  constructor(readonly sourceName: string) {
    super(`data source "${sourceName}" does not exist (npm run cli -- source list)`);
    this.name = 'UnknownSourceError';
  }
}

/** The download name: the task's pattern with `{task} {date} {time}` and parameters filled, plus the extension. */
export function exportFileName(task: Pick<TaskSpec, 'name' | 'fileName' | 'format' | 'timezone'>, values: Values, nowMs: number): string {
  const { y, m, d } = dateInZone(nowMs, task.timezone);
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: task.timezone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
    .format(nowMs)
    .replace(/:/g, '');
  const date = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const vars: Record<string, string> = { task: task.name, date, time };
  for (const [k, v] of Object.entries(values)) vars[k] = v === null ? '' : String(v);
  const base = fillTemplate(task.fileName, vars).replace(/[/\\:*?"<>|]/g, '_');
  return `${base}.${task.format}`;
}

/** Bind the task's SQL for a driver and order the values to match. */
function bound(task: Pick<TaskSpec, 'sql'>, kind: 'postgres' | 'mysql', values: Values) {
  const b = bindNamed(task.sql, kind);
  return { text: b.text, params: b.order.map((n) => values[n] ?? null) };
}

/** Stream the task's query; `onRows` gets typed cells per batch. Throws LimitReached past `limit`. */
async function streamRows(
  deps: ExportDeps,
  task: TaskSpec,
  values: Values,
  limit: number,
  signal: AbortSignal | undefined,
  onRows: (columns: Column[], rows: CellValue[][]) => Promise<void>,
  onCount?: (rows: number) => void,
): Promise<{ rows: number; truncated: boolean }> {
  const client = await openSource(deps, task.source);
  if (!client) throw new UnknownSourceError(task.source);
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let rows = 0;
  let truncated = false;
  const wall = createZoneClock(task.timezone);
  try {
    const q = bound(task, client.dialect, values);
    await client
      .stream(q.text, q.params, { timeoutMs: task.timeoutMs, signal: stop.signal, batchSize: BATCH_ROWS }, async (columns, batch) => {
        if (truncated) return;
        const room = limit - rows;
        const take = batch.length > room ? batch.slice(0, room) : batch;
        // Converted in place: the driver's row arrays are ours, and a copy per row is garbage.
        const kinds = columns.map((c) => c.kind);
        for (const r of take) for (let i = 0; i < r.length; i++) r[i] = toCell(r[i], kinds[i] ?? 'text', wall);
        await onRows(columns, take as CellValue[][]);
        rows += take.length;
        onCount?.(rows);
        if (batch.length > room) {
          truncated = true;
          stop.abort('row limit');
        }
      })
      .catch((err) => {
        // Past the row limit we stopped the query ourselves: whatever it says now is that.
        if (truncated && !signal?.aborted) return;
        throw err;
      });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await client.close();
  }
  return { rows, truncated };
}

/** What one export produced. */
export interface ExportOutcome {
  file: StoredFile;
  rows: number;
  sheets: number;
  truncated: boolean;
  durationMs: number;
  columns: string[];
}

/**
 * Run the task's query and write every row into a file in the store: .xlsx (streaming, typed
 * cells, sheets split at `maxRowsPerSheet`) or .csv. `onProgress` hears the row count per batch.
 */
export async function runExport(
  deps: ExportDeps,
  task: TaskSpec,
  values: Values,
  opts: { jobId?: number | null; signal?: AbortSignal; onProgress?: (rows: number) => void; maxRowsPerSheet?: number } = {},
): Promise<ExportOutcome> {
  const started = performance.now();
  const tmp = await tempFilePath(deps, task.format);
  let sink: RowSink | undefined;
  let columns: Column[] = [];
  try {
    const { rows, truncated } = await streamRows(
      deps,
      task,
      values,
      task.rowLimit,
      opts.signal,
      async (cols, batch) => {
        if (!sink) {
          columns = cols;
          sink =
            task.format === 'csv'
              ? createCsvSink({ path: tmp, columns: cols })
              : await createXlsxSink({
                  path: tmp,
                  sheet: task.sheet,
                  columns: cols,
                  sample: batch.slice(0, 200),
                  maxRowsPerSheet: opts.maxRowsPerSheet,
                });
        }
        await sink.add(batch);
      },
      opts.onProgress,
    );
    if (!sink)
      sink =
        task.format === 'csv'
          ? createCsvSink({ path: tmp, columns })
          : await createXlsxSink({ path: tmp, sheet: task.sheet, columns, sample: [] });
    const { sheets } = await sink.finish();
    const name = exportFileName(task, values, deps.now());
    const file = await storeFile(deps, { jobId: opts.jobId ?? null, name, path: tmp, rows });
    return { file, rows, sheets, truncated, durationMs: performance.now() - started, columns: columns.map((c) => c.name) };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The first `n` rows (as cell values) and the total row count, no file. */
export async function previewExport(
  deps: ExportDeps,
  task: TaskSpec,
  values: Values,
  opts: { signal?: AbortSignal; n?: number } = {},
): Promise<{ columns: Column[]; rows: CellValue[][]; count: number; truncated: boolean }> {
  const n = opts.n ?? 10;
  const first: CellValue[][] = [];
  let columns: Column[] = [];
  const r = await streamRows(deps, task, values, task.rowLimit, opts.signal, async (cols, batch) => {
    columns = cols;
    for (const row of batch) if (first.length < n) first.push(row);
  });
  return { columns, rows: first, count: r.rows, truncated: r.truncated };
}

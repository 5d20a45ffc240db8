import type { Database } from '../db/client';
import { type FileDeps, storeFile, tempFilePath } from '../files';
import type { ReportPublisher, ReportSheet } from './report';

/**
 * Lay the report's sheets out as an .xlsx at `file`: bold, frozen header row, widths, percentages
 * formatted as such, long answers wrapped. exceljs is loaded only when a report is written.
 */
export async function writeReportXlsx(sheets: readonly ReportSheet[], file: string): Promise<void> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'chatops-bot';
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.addRow(s.header).font = { bold: true };
    for (const row of s.rows) ws.addRow(row);
    s.widths?.forEach((w, i) => {
      ws.getColumn(i + 1).width = w;
    });
    for (const c of s.percentColumns ?? []) ws.getColumn(c + 1).numFmt = '0.0%';
    const last = ws.getColumn(s.header.length);
    if ((s.widths?.[s.header.length - 1] ?? 0) >= 60) last.alignment = { wrapText: true, vertical: 'top' };
  }
  await wb.xlsx.writeFile(file);
}

/**
 * The diagnosis report behind a signed download link: written into the files module's temporary
 * area, moved into the store with its job, and linked under PUBLIC_URL until it expires.
 */
export function createReportPublisher(deps: Omit<FileDeps, 'db'> & { fileName: (jobId: number) => string }): ReportPublisher {
  return {
    async publish({ jobId, sheets, signal, db }: { jobId: number; sheets: ReportSheet[]; signal: AbortSignal; db: Database }) {
      const tmp = await tempFilePath(deps, '.xlsx');
      await writeReportXlsx(sheets, tmp);
      signal.throwIfAborted();
      const rows = sheets.at(-1)?.rows.length ?? null;
      const f = await storeFile({ ...deps, db }, { jobId, name: deps.fileName(jobId), path: tmp, rows });
      return { url: f.url, filename: f.name, expiresAt: f.expiresAt.toISOString() };
    },
  };
}

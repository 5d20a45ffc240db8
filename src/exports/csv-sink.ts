import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Column } from './cells';
import { cellText } from './cells';
import type { RowSink } from './xlsx-sink';

/** One CSV field, quoted when it needs to be (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A UTF-8 CSV (with BOM, so Excel reads Chinese correctly) written with backpressure. */
export function createCsvSink(opts: { path: string; columns: Column[] }): RowSink {
  const out = createWriteStream(opts.path);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let started = false;
  return {
    async add(rows) {
      if (!started) {
        started = true;
        await write(`\ufeff${opts.columns.map((c) => csvField(c.name)).join(',')}\r\n`);
      }
      let chunk = '';
      for (const r of rows) chunk += `${r.map((v, i) => csvField(cellText(v, opts.columns[i]?.kind ?? 'text'))).join(',')}\r\n`;
      await write(chunk);
    },
    async finish() {
      if (!started) await this.add([]);
      out.end();
      await once(out, 'finish');
      return { sheets: 1 };
    },
  };
}

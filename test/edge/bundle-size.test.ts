import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EDGE_BUNDLE_LIMIT, measureBundle } from '../../tools/edge-bundle-size';
import { buildWorker } from './worker-harness';

describe('the Worker bundle (wrangler deploy --dry-run)', () => {
  it('builds, stays under the compressed limit, and leaves the Node-only parts out', async () => {
    const { outdir, script } = await buildWorker();
    const m = measureBundle(outdir);
    expect(m.files).toContain('worker.js');
    expect(m.gzip).toBeGreaterThan(0);
    expect(m.gzip).toBeLessThanOrEqual(EDGE_BUNDLE_LIMIT);
    const code = readFileSync(script, 'utf8');
    // The embedded database, the Stream client, the Node logger and what only jobs use (broker, .xlsx,
    // MySQL, e-mail, the scheduler: aliased away in wrangler.toml) are Node instances' business.
    const nodeOnly = ['@electric-sql/pglite', 'dingtalk-stream', 'pino/', 'amqplib/', 'exceljs/', 'mysql2/', 'nodemailer/', 'node-cron/'];
    for (const pkg of nodeOnly.map((p) => `node_modules/${p}`)) {
      expect(code.includes(pkg), pkg).toBe(false);
    }
    expect(code).toContain('src/worker.ts');
  }, 120_000);
});

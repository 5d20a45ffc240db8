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
    // The embedded database, the Stream client and the Node logger are Node instances' business.
    for (const pkg of ['node_modules/@electric-sql/pglite', 'node_modules/dingtalk-stream', 'node_modules/pino/']) {
      expect(code.includes(pkg), pkg).toBe(false);
    }
    expect(code).toContain('src/worker.ts');
  }, 120_000);
});

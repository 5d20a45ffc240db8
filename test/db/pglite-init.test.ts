import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import { preparePgliteTemplate } from '../../src/db/pglite-init';

describe('the embedded database on disk', () => {
  it('starts an empty data directory from the template cluster, with the small settings, and keeps data across opens', async () => {
    const template = await preparePgliteTemplate();
    expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(template, 'postmaster.pid'))).toBe(false);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'chatops-pglite-'));
    const first = await createDb({ dataDir });
    try {
      const [settings] = await first.query<{ sb: string; mc: string }>(
        `select current_setting('shared_buffers') as sb, current_setting('max_connections') as mc`,
      );
      expect(settings).toEqual({ sb: '16MB', mc: '10' });
      await first.query('create table kept (v text)');
      await first.query(`insert into kept values ('across restarts')`);
    } finally {
      await first.close();
    }
    const again = await createDb({ dataDir });
    try {
      expect(await again.query('select v from kept')).toEqual([{ v: 'across restarts' }]);
    } finally {
      await again.close();
    }
  }, 120_000);
});

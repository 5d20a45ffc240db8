import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/client';
import type { CleanupStep } from '../jobs/cleanup';
import { type FileDeps, filePath } from './store';

/**
 * Delete the bytes of every expired file and mark it removed (the row stays so history can say
 * "expired"); rows themselves go after `retentionDays`. Returns how many files were removed.
 */
export async function removeExpiredFiles(
  deps: { config: FileDeps['config']; db: Database },
  retentionDays: number,
  signal?: AbortSignal,
): Promise<number> {
  let removed = 0;
  for (;;) {
    signal?.throwIfAborted();
    const batch = await deps.db.query<{ id: number; stored_as: string }>(
      `select id, stored_as from files where removed_at is null and expires_at <= now() order by expires_at limit 500`,
    );
    if (batch.length === 0) break;
    for (const f of batch) await rm(filePath(deps, { storedAs: f.stored_as }), { force: true });
    await deps.db.query(`update files set removed_at = now() where id = any($1::bigint[])`, [batch.map((f) => Number(f.id))]);
    removed += batch.length;
  }
  // Half-written files of attempts that died (a crash mid-export) are left in tmp/.
  const tmp = path.join(deps.config.FILES_DIR, 'tmp');
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const p = path.join(tmp, name);
    const st = await stat(p).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 24 * 3_600_000) await rm(p, { force: true });
  }
  await deps.db.query(`delete from files where removed_at < now() - make_interval(days => $1)`, [Math.max(1, Math.floor(retentionDays))]);
  return removed;
}

/** The clean-up job's step for files (src/handlers.ts adds it). */
export function filesCleanupStep(deps: { config: FileDeps['config'] }): CleanupStep {
  return {
    name: 'files',
    run: (payload, helpers) => removeExpiredFiles({ config: deps.config, db: helpers.db }, payload.olderThanDays, helpers.signal),
    describe: (n, t) => t('files.cleanup.done', { n }),
  };
}

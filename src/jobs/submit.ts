import type { Database } from '../db/client';
import { enqueue } from './queue';
import type { AnyJobDefinition, EnqueueOptions, Job } from './types';

/** Enqueue a job with its kind's defaults (attempts, timeouts) filled in. */
export async function submitJob(
  db: Database,
  definitions: readonly AnyJobDefinition[],
  opts: EnqueueOptions,
): Promise<{ job: Job; created: boolean }> {
  const def = definitions.find((d) => d.kind === opts.kind);
  if (!def) throw new Error(`no handler for job kind ${opts.kind}; add it to src/handlers.ts`);
  return enqueue(db, {
    maxAttempts: def.maxAttempts,
    softTimeoutMs: def.softTimeoutMs,
    hardTimeoutMs: def.hardTimeoutMs,
    ...opts,
  });
}

import type { Database } from '../db/client';
import { resolveParams } from '../exports/params';
import { getTask } from '../exports/tasks';
import type { Schedule } from './store';

/** The export job kind (src/exports). */
export const EXPORT_KIND = 'sql_export';

/**
 * The payload of one fire. Exports bind relative dates (`from=yesterday`) when a job is made, so a
 * scheduled export binds them at its fire time from what was typed, not once when it was added; a
 * catch-up of yesterday's 09:00 fire exports yesterday's day.
 */
export async function payloadFor(db: Database, s: Schedule, at: Date): Promise<Record<string, unknown>> {
  if (s.kind !== EXPORT_KIND) return s.payload;
  const typed = (s.payload.typed ?? {}) as Record<string, string>;
  const task = await getTask(db, String(s.payload.task));
  // A task removed or changed since: the job fails with the export's own clear message.
  if (!task) return s.payload;
  try {
    return { ...s.payload, values: resolveParams(task.params, typed, at.getTime(), task.timezone) };
  } catch {
    return s.payload;
  }
}

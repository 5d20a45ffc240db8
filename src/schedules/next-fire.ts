import { nextFires } from './cron';
import type { Schedule } from './store';

/** When a schedule fires next after `now` (null: manual, not active, or a date already past). Pure. */
export function nextFireOf(s: Pick<Schedule, 'type' | 'cron' | 'timezone' | 'runAt' | 'state'>, now: Date): Date | null {
  if (s.state !== 'active') return null;
  if (s.type === 'cron' && s.cron) return nextFires(s.cron, s.timezone, now, 1)[0] ?? null;
  if (s.type === 'date' && s.runAt && s.runAt.getTime() > now.getTime()) return s.runAt;
  return null;
}

/** A fire the scheduler found due, and what to do with it. */
export interface PlannedFire {
  at: Date;
  action: 'fire' | 'missed';
  reason: 'scheduled' | 'catch_up';
}

/**
 * Fires younger than this run as scheduled even if the process woke a little late, and are never
 * recorded as missed (another instance may be firing them right now).
 */
export const ON_TIME_MS = 5_000;

/**
 * Decide what happens to fires that came due since the schedule was last checked. Pure.
 * - on time (younger than ON_TIME_MS): each one runs;
 * - late: when nothing ran on time, the newest late fire within the grace period runs once
 *   (a catch-up after downtime); every other late fire is recorded as missed.
 */
export function planDue(due: Date[], nowMs: number, graceSec: number): PlannedFire[] {
  const onTime = due.filter((d) => nowMs - d.getTime() <= ON_TIME_MS);
  const late = due.filter((d) => nowMs - d.getTime() > ON_TIME_MS);
  const catchUp = onTime.length === 0 ? [...late].reverse().find((d) => nowMs - d.getTime() <= graceSec * 1000) : undefined;
  return [
    ...late.map(
      (at): PlannedFire => (at === catchUp ? { at, action: 'fire', reason: 'catch_up' } : { at, action: 'missed', reason: 'scheduled' }),
    ),
    ...onTime.map((at): PlannedFire => ({ at, action: 'fire', reason: 'scheduled' })),
  ];
}

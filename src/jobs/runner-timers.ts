import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import { CHANNEL_CANCEL, CHANNEL_NEW, heartbeat, reapExpired } from './queue';

/** What the runner's timers and listeners need. */
export interface RunnerTimersDeps {
  db: Database;
  log: Logger;
  workerId: string;
  kinds: ReadonlySet<string>;
  leaseMs: number;
  pollIntervalMs: number;
}

/** What the timers tell the runner. */
export interface RunnerTimersHooks {
  /** Ready jobs of `kind` (undefined: any kind) may be waiting. */
  wake(kind?: string): void;
  /** Ids of the jobs whose handlers run here now. */
  held(): number[];
  /** Another runner owns this job now (our lease was not extended). */
  leaseLost(id: number): void;
  /** Someone asked to cancel this running job. */
  cancelRequested(id: number): void;
  /** The reaper ended these jobs for good (their final messages are due). */
  reapedFinal(ids: number[]): void;
}

/**
 * One heartbeat: extend the lease of every job this runner holds, and report which held jobs lost
 * their lease or have a cancel request.
 */
export async function beat(d: Pick<RunnerTimersDeps, 'db' | 'workerId' | 'leaseMs'>, h: RunnerTimersHooks): Promise<void> {
  const rows = await heartbeat(d.db, d.workerId, d.leaseMs);
  const leased = new Map(rows.map((r) => [r.id, r.cancelRequested]));
  for (const id of h.held()) {
    const cancel = leased.get(id);
    if (cancel === undefined) h.leaseLost(id);
    else if (cancel) h.cancelRequested(id);
  }
}

/** One reaper pass: take back jobs whose worker was lost (any instance may do it). */
export async function reap(d: Pick<RunnerTimersDeps, 'db' | 'log'>, h: Pick<RunnerTimersHooks, 'wake' | 'reapedFinal'>): Promise<void> {
  const reaped = await reapExpired(d.db);
  if (reaped.length === 0) return;
  d.log.warn({ jobs: reaped }, 'took back jobs whose worker was lost');
  const final = reaped.filter((r) => r.status !== 'queued').map((r) => r.id);
  if (final.length) h.reapedFinal(final);
  h.wake();
}

/**
 * The runner's clocks and ears: LISTEN for new jobs and cancel requests, poll (in case a NOTIFY was
 * missed), heartbeat (a third of the lease) and reap (half the lease). Returns the function that
 * stops them all.
 */
export async function startRunnerTimers(d: RunnerTimersDeps, h: RunnerTimersHooks): Promise<() => Promise<void>> {
  const safely = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      d.log.error({ err: errorMessage(err) }, `${what} failed`);
    }
  };
  const unlisten = [
    await d.db.listen(CHANNEL_NEW, (kind) => {
      // The payload is a kind for new jobs; 'released'/'reaped' may concern any kind.
      if (d.kinds.has(kind)) h.wake(kind);
      else if (kind === 'released' || kind === 'reaped') h.wake();
    }),
    await d.db.listen(CHANNEL_CANCEL, (id) => h.cancelRequested(Number(id))),
  ];
  const intervals = [
    setInterval(() => h.wake(), d.pollIntervalMs),
    setInterval(() => void safely('heartbeat', () => beat(d, h)), Math.max(500, Math.floor(d.leaseMs / 3))),
    setInterval(() => void safely('reaper', () => reap(d, h)), Math.max(500, Math.floor(d.leaseMs / 2))),
  ];
  for (const i of intervals) i.unref();
  await safely('reaper', () => reap(d, h));
  return async () => {
    for (const i of intervals) clearInterval(i);
    for (const u of unlisten) await safely('unlisten', u);
  };
}

/** What the relay last posted for a job. */
export interface ThrottleState {
  lastAt?: number;
  lastPct?: number;
}

/**
 * Whether a progress update is worth a chat message: not more often than `intervalMs`, and only
 * when the percentage moved by at least `minStep` since the last message. Pure.
 */
export function shouldPostProgress(
  state: ThrottleState,
  pct: number,
  now: number,
  opts: { intervalMs: number; minStep: number; startedAt: number },
): boolean {
  if (pct >= 100) return false; // the final message says it
  const since = now - (state.lastAt ?? opts.startedAt);
  if (since < opts.intervalMs) return false;
  return Math.abs(pct - (state.lastPct ?? 0)) >= opts.minStep;
}

/** A text progress bar for chat: `▓▓▓▓▓░░░░░ 50%`. */
export function progressBar(pct: number, width = 10): string {
  const p = Math.max(0, Math.min(100, Math.round(pct)));
  const full = Math.round((p / 100) * width);
  return `${'▓'.repeat(full)}${'░'.repeat(width - full)} ${p}%`;
}

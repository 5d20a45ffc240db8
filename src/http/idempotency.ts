import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Outcome } from '../chat/dispatch';
import { claimWebhookCall, finishInbound } from '../chat/inbound';
import type { Deps } from '../deps';
import type { Caller } from '../lib/roles';
import { errorBody } from './errors';

/** What a webhook call did: the answer to send and what the inbound log records. */
export interface CallOutcome {
  status: ContentfulStatusCode;
  body: unknown;
  record: { outcome: Outcome; command?: string; args?: unknown; error?: string; jobId?: number };
}

// How long a repeat waits for a first call that is still running before it is told to retry.
const WAIT_FOR_FIRST_MS = 5000;

/**
 * Run a webhook call at most once per `Idempotency-Key` (scoped to the caller), as Stripe does:
 * the first answer (status and body) is stored and replayed to every repeat with the same body; a
 * repeat with a different body gets 409. An answer of 500 or more, or a call that threw or whose
 * process died, is not stored: the key may run again. Without the header every call runs.
 */
export async function runIdempotent(
  c: Context,
  deps: Deps,
  caller: Caller,
  raw: string,
  run: () => Promise<CallOutcome>,
): Promise<Response> {
  const key = c.req.header('idempotency-key');
  const text = `${c.req.method} ${c.req.path} ${raw}`;
  const hash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${raw}`).digest('hex');
  const msgId = key ? `${caller.key}:${key}` : `nokey:${randomUUID()}`;
  const started = Date.now();
  for (;;) {
    const claim = await claimWebhookCall(deps, caller, msgId, text, hash);
    if (claim.claimed) return runClaimed(c, deps, claim.id, run);
    if (claim.requestHash !== hash) {
      return c.json(errorBody('idempotency_mismatch', deps.t('http.idempotencyMismatch'), 'Idempotency-Key'), 409);
    }
    if (claim.response) {
      c.header('Idempotent-Replayed', 'true');
      return c.json(claim.response.body as object, claim.response.status as ContentfulStatusCode);
    }
    // The first call is still running (or its process died and its lease has not run out yet).
    if (Date.now() - started > WAIT_FOR_FIRST_MS) {
      const seconds = Math.ceil(deps.config.INBOUND_LEASE_MS / 1000);
      c.header('Retry-After', String(seconds));
      return c.json(errorBody('in_progress', deps.t('http.idempotencyBusy', { seconds }), 'Idempotency-Key'), 503);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runClaimed(c: Context, deps: Deps, id: number, run: () => Promise<CallOutcome>): Promise<Response> {
  let out: CallOutcome;
  try {
    out = await run();
  } catch (err) {
    await release(deps, id);
    throw err;
  }
  if (out.status >= 500) {
    await release(deps, id);
  } else {
    await finishInbound(deps, id, out.record, { status: out.status, body: out.body });
  }
  return c.json(out.body as object, out.status);
}

/** Let a repeat of this key run again at once: nothing was stored for it. */
async function release(deps: Deps, id: number): Promise<void> {
  await deps.db.query(`update inbound_messages set claimed_at = to_timestamp(0) where id = $1 and outcome = 'received'`, [id]);
}

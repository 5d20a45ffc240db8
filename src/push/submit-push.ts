import type { Deps } from '../deps';
import { submitJob } from '../jobs/submit';
import type { Job } from '../jobs/types';
import type { Caller } from '../lib/roles';
import type { ReplyTarget } from '../outbound';
import { shanghaiDate } from './generators';
import { installTag, peekNextNumber } from './order-numbers';
import { type PushRequest, preparePush } from './prepare';
import type { Preset } from './preset-schema';
import { PUSH_KIND, type PushPayload } from './push-job';
import { renderMessage } from './render';
import type { PushSpec } from './spec';

/** Validate a push request with the process's presets and limits (see preparePush). */
export function validatePush(deps: Pick<Deps, 'presets' | 'config' | 't' | 'now'>, req: PushRequest) {
  return preparePush(req, { presets: deps.presets, config: deps.config, locale: deps.t.locale, nowMs: deps.now() });
}

/** What a dry run shows: the target queue and the first message as it would be rendered now. */
export async function dryRunPush(deps: Pick<Deps, 'db' | 'now'>, preset: Preset, spec: PushSpec) {
  const seqStart = await peekNextNumber(deps.db);
  const nowMs = deps.now();
  const tag = await installTag(deps.db);
  const ctx = { index: 0, seqStart, date: shanghaiDate(nowMs), nowMs, jobKey: 'dry-run', installTag: tag };
  const { body, orderNo } = renderMessage(preset, spec, ctx);
  return { queue: spec.queue, count: spec.count, orderNo, message: body };
}

/** Enqueue a validated push as a job. */
export async function submitPush(
  deps: Pick<Deps, 'db' | 'jobDefinitions'>,
  spec: PushSpec,
  caller: Caller,
  extra: { replyTo?: ReplyTarget; template?: string; replayOf?: number } = {},
): Promise<Job> {
  const payload: PushPayload = {
    spec,
    requestedBy: caller.key,
    requestedByName: caller.nick,
    template: extra.template,
    replayOf: extra.replayOf,
  };
  const { job } = await submitJob(deps.db, deps.jobDefinitions, {
    kind: PUSH_KIND,
    payload,
    requestedBy: caller.key,
    replyTo: extra.replyTo,
  });
  return job;
}

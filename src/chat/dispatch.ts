import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps';
import { errorMessage, UserError, type UserErrorCode } from '../errors';
import { clipText } from '../lib/clip';
import type { OutMessage, ReplyTarget } from '../outbound';
import { describeArgIssues, ECHO_MAX } from './arg-errors';
import type { Caller, CommandContext, CommandDef } from './define-command';
import type { Source } from './message';
import { parseCommand } from './parse-command';
import { type Counted, rateLimitKey, takeRateLimit } from './rate-limit';
import { findSubcommand } from './registry';
import { createReplySink } from './reply-sink';
import { hasRole } from './roles';

/** A command to run: a chat line (`text`) or a structured call from a webhook (`command` + `args`). */
export interface DispatchRequest {
  source: Source;
  caller: Caller;
  text?: string;
  command?: string;
  subcommand?: string;
  args?: Record<string, unknown>;
  body?: string[];
  conversation?: CommandContext['conversation'];
  replyTarget?: ReplyTarget;
  /** Count against the caller's per-minute limit (off for the local CLI). */
  rateLimit?: boolean;
  /** Already counted (with the chat message's claim): its place in the caller's minute. */
  rateCounted?: Counted;
}

export type Outcome = 'ok' | 'empty' | UserErrorCode | 'error';

export interface DispatchResult {
  outcome: Outcome;
  /** The resolved command, e.g. `push` or `push history`. */
  command?: string;
  args?: Record<string, unknown>;
  jobId?: number;
  data?: unknown;
  messages: OutMessage[];
  /** Short description of a failure, for the audit log. */
  error?: string;
  field?: string;
}

function lowerKeys(input: Record<string, unknown>, def: CommandDef): Record<string, unknown> {
  const known = new Map(Object.keys(def.args.shape).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k in def.args.shape ? k : (known.get(k.toLowerCase()) ?? k)] = v;
  return out;
}

/**
 * Find the command, check role and rate limit, validate arguments, run. Never throws: every
 * failure becomes an outcome with a reply that says what to do.
 */
export async function dispatch(deps: Deps, req: DispatchRequest): Promise<DispatchResult> {
  let result: DispatchResult;
  try {
    result = await runDispatch(deps, req);
  } catch (err) {
    // Only infrastructure can fail here (the rate-limit query); run() errors are handled inside.
    const ref = randomUUID().slice(0, 8);
    deps.log.error({ err, ref }, 'dispatch failed');
    result = {
      outcome: 'error',
      error: `${ref}: ${errorMessage(err)}`,
      messages: [{ type: 'text', text: deps.t('dispatch.internalError', { ref }) }],
    };
  }
  deps.metrics.commandsTotal.inc({ command: result.command ?? '(none)', outcome: result.outcome });
  return result;
}

/** A command found, allowed and with valid arguments, ready to run. */
export interface ResolvedCommand {
  def: CommandDef;
  /** The resolved name, e.g. `push` or `push history`. */
  label: string;
  args: Record<string, unknown>;
  body: string[];
}

/**
 * Everything dispatch checks before running a command (name, subcommand, role, rate limit,
 * arguments): the command ready to run, or the failure with its replies in `sink`. The Worker
 * checks webhook commands with it before queueing them.
 */
export async function resolveCommand(
  deps: Pick<Deps, 't' | 'registry' | 'db' | 'config'>,
  req: DispatchRequest,
  sink: ReturnType<typeof createReplySink>,
): Promise<{ ok: true; command: ResolvedCommand } | { ok: false; result: DispatchResult }> {
  const { t } = deps;
  const failed = (outcome: Outcome, error: string, extra: Partial<DispatchResult> = {}) => ({
    ok: false as const,
    result: { outcome, error, messages: sink.messages, ...extra },
  });

  let name: string;
  let positional: string[] = [];
  let repeated: string[] = [];
  let raw: Record<string, unknown>;
  let body = req.body ?? [];
  if (req.text !== undefined) {
    const p = parseCommand(req.text);
    name = p.name;
    positional = p.positional;
    raw = p.args;
    repeated = p.repeated;
    body = p.body;
  } else {
    name = (req.command ?? '').toLowerCase();
    raw = { ...(req.args ?? {}) };
    if (req.subcommand) positional = [req.subcommand];
  }

  if (name === '') {
    sink.text(t('dispatch.empty'));
    return failed('empty', 'empty message');
  }
  let def = deps.registry.find(name);
  if (!def) {
    const suggestions = deps.registry.suggest(name);
    const shown = clipText(name, ECHO_MAX);
    sink.text(
      suggestions.length > 0
        ? t('dispatch.unknownWithSuggestion', { name: shown, suggestions: suggestions.map((s) => `/${s}`).join(t('list.sep')) })
        : t('dispatch.unknown', { name: shown }),
    );
    return failed('unknown_command', `unknown command ${clipText(name, 200)}`);
  }
  let label = def.name;
  const sub = positional[0] !== undefined ? findSubcommand(def, positional[0]) : undefined;
  if (sub) {
    def = sub;
    label = `${label} ${sub.name}`;
    positional = positional.slice(1);
  } else if (!def.run) {
    const subs = (def.subcommands ?? []).map((s) => s.name).join(', ');
    sink.text(t('dispatch.needsSubcommand', { name: def.name, subs }));
    return failed('bad_args', `missing subcommand for ${def.name}`, { command: label });
  }

  if (!hasRole(req.caller.role, def.role)) {
    sink.text(t('dispatch.forbidden', { command: label, role: t(`role.${def.role}`), yours: t(`role.${req.caller.role}`) }));
    return failed('forbidden', `role ${req.caller.role} < ${def.role}`, { command: label });
  }
  if (req.rateLimit !== false) {
    const limit = deps.config.RATE_LIMIT_PER_MINUTE;
    const rl = req.rateCounted
      ? { ...req.rateCounted, allowed: req.rateCounted.count <= limit }
      : await takeRateLimit(deps.db, rateLimitKey(req.caller), limit);
    if (!rl.allowed) {
      sink.text(t('dispatch.rateLimited', { limit, seconds: rl.retryAfterSec }));
      return failed('rate_limited', `rate limited (${rl.count})`, { command: label });
    }
  }

  // `store=12 store=13` is a mistake, not a list: say so rather than read "12,13".
  const twice = repeated.find((k) => !(def.lists ?? []).some((l) => l.toLowerCase() === k.toLowerCase()));
  if (twice !== undefined) {
    const values = clipText(String(raw[twice]), ECHO_MAX);
    sink.text(t('dispatch.repeatedKey', { key: clipText(twice, ECHO_MAX), values, usage: def.examples[0] ?? `/${label}` }));
    return failed('bad_args', `repeated key ${clipText(twice, 200)}`, { command: label, field: twice });
  }

  // Positional words fill the declared names in order; flag words set booleans.
  const input = lowerKeys(raw, def);
  const names = (def.positional ?? []).filter((n) => input[n] === undefined);
  for (const word of positional) {
    const flag = def.flags?.find((f) => f.toLowerCase() === word.toLowerCase());
    if (flag) input[flag] = true;
    else if (names.length > 0) input[names.shift() as string] = word;
    else {
      sink.text(t('dispatch.unexpectedWord', { word: clipText(word, ECHO_MAX), usage: def.examples[0] ?? `/${label}` }));
      return failed('bad_args', `unexpected word ${clipText(word, 200)}`, { command: label, args: input });
    }
  }

  const parsed = def.args.safeParse(input);
  if (!parsed.success) {
    const problems = describeArgIssues(parsed.error.issues, def, input, t);
    sink.text([...problems.map((p) => p.text), t('dispatch.seeHelp', { command: label })].join('\n'));
    return failed('bad_args', problems.map((p) => p.text).join('; '), {
      command: label,
      args: input,
      field: problems[0]?.field,
    });
  }

  return { ok: true, command: { def, label, args: parsed.data, body } };
}

async function runDispatch(deps: Deps, req: DispatchRequest): Promise<DispatchResult> {
  const { t } = deps;
  const sink = createReplySink();
  const fail = (outcome: Outcome, error: string, extra: Partial<DispatchResult> = {}): DispatchResult => ({
    outcome,
    error,
    messages: sink.messages,
    ...extra,
  });
  const resolved = await resolveCommand(deps, req, sink);
  if (!resolved.ok) return resolved.result;
  const { def, label, args, body } = resolved.command;

  const ctx: CommandContext = {
    deps,
    t,
    caller: req.caller,
    source: req.source,
    conversation: req.conversation,
    replyTarget: req.replyTarget,
    body,
    reply: sink,
  };
  try {
    const result = (await def.run?.(ctx, args)) ?? undefined;
    return {
      outcome: 'ok',
      command: label,
      args: args,
      jobId: result?.jobId,
      data: result?.data,
      messages: sink.messages,
    };
  } catch (err) {
    if (err instanceof UserError) {
      sink.text(t(err.key, err.vars));
      return fail(err.code, t(err.key, err.vars), { command: label, args: args, field: err.field });
    }
    const ref = randomUUID().slice(0, 8);
    deps.log.error({ err, ref, command: label }, 'command failed');
    sink.text(t('dispatch.internalError', { ref }));
    return fail('error', `${ref}: ${errorMessage(err)}`, { command: label, args: args });
  }
}

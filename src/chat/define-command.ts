import type { z } from 'zod';
import type { Deps } from '../deps';
import type { Translator } from '../i18n';
import type { Caller, Role } from '../lib/roles';
import type { ReplyTarget } from '../outbound';
import type { Source } from './message';
import type { ReplySink } from './reply-sink';

export type { Caller } from '../lib/roles';

/** What a command's run() receives besides its validated arguments. */
export interface CommandContext {
  deps: Deps;
  t: Translator;
  caller: Caller;
  source: Source;
  conversation?: { id: string; type: 'single' | 'group'; title?: string };
  /** Where a job started by this command reports progress; absent for webhooks and the CLI. */
  replyTarget?: ReplyTarget;
  /** Lines after the command line. */
  body: string[];
  reply: ReplySink;
}

/** What a command tells the transport besides its replies. */
export interface CommandResult {
  jobId?: number;
  data?: unknown;
}

// biome-ignore lint: the schema type is generic over any object shape.
export type ArgsSchema = z.ZodObject<any>;

export interface CommandSpec<S extends ArgsSchema = ArgsSchema> {
  /** Lower-case, no slash. Summary, usage and argument help come from the catalog under `cmd.<name>.*`. */
  name: string;
  aliases?: string[];
  role: Role;
  /** Argument names filled, in order, by words that are not key=value. */
  positional?: string[];
  /** Words that set a boolean argument to true when typed alone (e.g. `dry`). */
  flags?: string[];
  /** Keys that may be typed more than once (`sku=A001 sku=B002`), joined with ','; any other repeated key is refused. */
  lists?: string[];
  args: S;
  /** Typed examples shown by /help and in error replies. */
  examples: string[];
  /** Subcommands picked by the first positional word (`/push history`). */
  subcommands?: CommandDef[];
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that only replies returns nothing.
  run?(ctx: CommandContext, args: z.output<S>): Promise<CommandResult | undefined | void>;
}

/** A command as the registry stores it (schema type erased). */
export interface CommandDef extends CommandSpec<ArgsSchema> {
  /** `cmd.<parent>.<name>` for subcommands, `cmd.<name>` otherwise: the catalog prefix. */
  catalogKey: string;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Define a chat command once for chat, webhooks and the CLI. Invalid definitions throw at boot.
 *
 * @example
 * export default defineCommand({
 *   name: 'ping', aliases: ['在吗'], role: 'viewer', args: z.object({}), examples: ['/ping'],
 *   async run(ctx) { ctx.reply.text(ctx.t('cmd.ping.pong')); },
 * });
 */
export function defineCommand<S extends ArgsSchema>(spec: CommandSpec<S>, parent?: string): CommandDef {
  if (!NAME.test(spec.name)) {
    throw new Error(`command name "${spec.name}" must be lower-case letters, digits or '-', without a slash`);
  }
  for (const a of spec.aliases ?? []) {
    if (a.startsWith('/') || a.trim() !== a || a === '') throw new Error(`alias "${a}" of ${spec.name} is invalid`);
  }
  const shape = spec.args.shape as Record<string, unknown>;
  for (const p of [...(spec.positional ?? []), ...(spec.flags ?? [])]) {
    if (!(p in shape)) throw new Error(`${spec.name}: "${p}" is not an argument`);
  }
  if ('body' in shape) throw new Error(`${spec.name}: "body" is reserved for the lines after the command`);
  if (!spec.run && !spec.subcommands?.length) throw new Error(`${spec.name}: needs run() or subcommands`);
  const catalogKey = parent ? `cmd.${parent}.${spec.name}` : `cmd.${spec.name}`;
  const subcommands = spec.subcommands?.map((s) => ({
    ...s,
    catalogKey: `${catalogKey}.${s.name}`,
  }));
  // Unknown arguments are errors (with the valid names listed) unless the command takes free-form keys.
  const hasCatchall = Boolean((spec.args as unknown as { _zod: { def: { catchall?: unknown } } })._zod.def.catchall);
  const args = hasCatchall ? spec.args : spec.args.strict();
  return { ...(spec as unknown as CommandSpec), args, catalogKey, subcommands };
}

/** Define a subcommand; the parent's defineCommand gives it its catalog key. */
export function defineSubcommand<S extends ArgsSchema>(spec: CommandSpec<S>): CommandDef {
  return defineCommand(spec, '_');
}

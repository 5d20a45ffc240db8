import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import type { Deps } from '../deps';
import { UserError } from '../errors';
import { getJob } from '../jobs/reads';
import { createRunner } from '../jobs/runner';
import type { Caller } from '../lib/roles';
import { SecretsKeyError } from './secret-box';
import {
  getSourceInfo,
  listSources,
  openSource,
  removeSource,
  SourceExistsError,
  type SourceInput,
  saveSource,
  sourceFromUrl,
} from './sources';
import { formatValues, submitExport } from './submit-export';
import { taskInput } from './task-schema';
import { describeTargets, getTask, listTasks, removeTask, saveTask, TaskExistsError } from './tasks';

/** Usage lines of the source/task CLI, for src/cli.ts's help. */
export const EXPORTS_USAGE = `  npm run cli -- source create <name> --kind postgres|mysql|mariadb --host H [--port P] --database D --user U
                 [--password-env VAR | --password-stdin | --password P] [--replace]   (or --url mysql://user:pass@host:port/db)
  npm run cli -- source list | test <name> | rm <name>
  npm run cli -- task create --file task.json [--replace]        (a JSON task definition; - reads stdin)
  npm run cli -- task list | show <name> | rm <name>
  npm run cli -- task run <name> [param=value …]                  run it here (as a job) and print the link
`;

/** A problem in what the admin typed: printed as is, exit code 2. */
export class CliUsageError extends Error {}

function zodText(err: ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `source …` and `task …` from the CLI. Returns lines to print; throws CliUsageError for bad input
 * (nothing changed). Passwords are read from an environment variable or stdin so they stay out of
 * shell history; none is ever printed.
 */
export async function runExportsCli(deps: Deps, argv: string[], operator: string): Promise<string[]> {
  const [area, action, ...rest] = argv;
  try {
    if (area === 'source') return await sourceCli(deps, action, rest, operator);
    if (area === 'task') return await taskCli(deps, action, rest, operator);
  } catch (err) {
    if (err instanceof ZodError) throw new CliUsageError(zodText(err));
    if (err instanceof SourceExistsError || err instanceof TaskExistsError || err instanceof SecretsKeyError)
      throw new CliUsageError(err.message);
    if (err instanceof UserError) throw new CliUsageError(deps.t(err.key, err.vars));
    throw err;
  }
  throw new CliUsageError(EXPORTS_USAGE);
}

async function sourceCli(deps: Deps, action: string | undefined, args: string[], operator: string): Promise<string[]> {
  if (action === 'list') {
    return (await listSources(deps)).map(
      (s) =>
        `${s.name}\t${s.kind}\t${s.username}@${s.host}:${s.port}/${s.database}\t${s.hasPassword ? 'password set (encrypted)' : 'no password'}`,
    );
  }
  if (action === 'create') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        kind: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        database: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        'password-env': { type: 'string' },
        'password-stdin': { type: 'boolean' },
        url: { type: 'string' },
        replace: { type: 'boolean' },
      },
    });
    const name = positionals[0];
    if (!name)
      throw new CliUsageError(
        `source create needs a name, e.g. npm run cli -- source create shop --kind mysql --host 10.0.0.5 --database shop --user report --password-env SHOP_DB_PASSWORD`,
      );
    let password = values.password;
    if (values['password-env']) {
      password = process.env[values['password-env']];
      if (password === undefined) throw new CliUsageError(`--password-env ${values['password-env']}: that environment variable is not set`);
    }
    if (values['password-stdin']) password = (await readStdin()).replace(/\r?\n$/, '');
    let input: SourceInput;
    if (values.url) {
      let fromUrl: ReturnType<typeof sourceFromUrl>;
      try {
        fromUrl = sourceFromUrl(values.url);
      } catch {
        throw new CliUsageError('--url: expected postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db');
      }
      input = { name, ...fromUrl, ...(password !== undefined ? { password } : {}) };
    } else {
      input = {
        name,
        kind: values.kind as 'postgres',
        host: values.host as string,
        port: values.port as never,
        database: values.database as string,
        user: values.user as string,
        password,
      };
    }
    const r = await saveSource(deps, input, operator, Boolean(values.replace));
    return [
      `data source "${name}" ${r.created ? 'created' : 'updated'}${input.password ? ' (password stored encrypted)' : ''}; test it with: npm run cli -- source test ${name}`,
    ];
  }
  if (action === 'test') {
    const name = args[0] ?? '';
    const client = await openSource(deps, name);
    if (!client) throw new CliUsageError(`no data source named "${name}"; see npm run cli -- source list`);
    try {
      const ms = await client.ping();
      return [`data source "${name}" OK: select 1 took ${ms.toFixed(1)} ms`];
    } catch (err) {
      throw new CliUsageError(`data source "${name}" failed: ${(err as Error).message}`);
    } finally {
      await client.close().catch(() => {});
    }
  }
  if (action === 'rm') {
    const name = args[0] ?? '';
    const users = (await listTasks(deps.db)).filter((t) => t.source === name).map((t) => t.name);
    if (users.length) throw new CliUsageError(`data source "${name}" is used by tasks ${users.join(', ')}; remove or change them first`);
    if (!(await removeSource(deps, name))) throw new CliUsageError(`no data source named "${name}"`);
    return [`data source "${name}" removed`];
  }
  throw new CliUsageError(EXPORTS_USAGE);
}

async function taskCli(deps: Deps, action: string | undefined, args: string[], operator: string): Promise<string[]> {
  if (action === 'list') {
    return (await listTasks(deps.db)).map(
      (t) =>
        `${t.name}\t${t.source}\t${t.format}\t${t.params.map((p) => `${p.name}:${p.type}${p.default ? `=${p.default}` : ''}`).join(' ') || '-'}\t${t.title ?? ''}`,
    );
  }
  if (action === 'show') {
    const t = await getTask(deps.db, args[0] ?? '');
    if (!t) throw new CliUsageError(`no export task named "${args[0] ?? ''}"`);
    const { targets: _t, ...rest } = t;
    return [JSON.stringify({ ...rest, targets: describeTargets(t) }, null, 2)];
  }
  if (action === 'create') {
    const { values } = parseArgs({ args, options: { file: { type: 'string' }, replace: { type: 'boolean' } } });
    if (!values.file) throw new CliUsageError('task create needs --file task.json (or --file - to read stdin); see README "Exports"');
    const text = values.file === '-' ? await readStdin() : readFileSync(values.file, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CliUsageError(`${values.file}: not valid JSON (${(err as Error).message})`);
    }
    const parsed = taskInput.parse(json);
    if (!(await getSourceInfo(deps, parsed.source))) {
      throw new CliUsageError(
        `source: no data source named "${parsed.source}"; create it first (npm run cli -- source create) or use "app"`,
      );
    }
    const r = await saveTask(deps, json as never, operator, Boolean(values.replace));
    return [`export task "${parsed.name}" ${r.created ? 'created' : 'updated'}; run it with: npm run cli -- task run ${parsed.name}`];
  }
  if (action === 'rm') {
    if (!(await removeTask(deps.db, args[0] ?? ''))) throw new CliUsageError(`no export task named "${args[0] ?? ''}"`);
    return [`export task "${args[0]}" removed`];
  }
  if (action === 'run') {
    const [name, ...kv] = args;
    const typed: Record<string, string> = {};
    for (const a of kv) {
      const i = a.indexOf('=');
      if (i <= 0) throw new CliUsageError(`"${a}": parameters are name=value, e.g. date=2026-11-22`);
      typed[a.slice(0, i)] = a.slice(i + 1);
    }
    const caller: Caller = { key: operator, nick: operator, role: 'admin' };
    const { job, values } = await submitExport(deps, name ?? '', typed, caller);
    const runner = createRunner({
      db: deps.db,
      log: deps.log,
      definitions: deps.jobDefinitions.filter((d) => d.kind === 'sql_export'),
      concurrency: 1,
      leaseMs: deps.config.JOB_LEASE_MS,
      pollIntervalMs: 200,
    });
    await runner.start();
    try {
      for (;;) {
        const j = await getJob(deps.db, job.id);
        if (j && ['succeeded', 'failed', 'cancelled'].includes(j.status)) {
          if (j.status !== 'succeeded') throw new CliUsageError(`job ${job.id} ${j.status}: ${j.error ?? ''}`);
          const r = j.result as { rows: number; size: number; file: { url: string; name: string } };
          return [`job ${job.id} (${formatValues(values)}): ${r.rows} rows, ${r.size} bytes → ${r.file.name}`, r.file.url];
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    } finally {
      await runner.stop(5_000);
    }
  }
  throw new CliUsageError(EXPORTS_USAGE);
}

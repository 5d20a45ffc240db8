import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createDeps } from './bootstrap';
import { resolveCallbackSecret } from './chat/callback-secret';
import { dispatch } from './chat/dispatch';
import { finishInbound, recordInbound } from './chat/inbound';
import { messageToText } from './chat/reply-sink';
import { type Config, ConfigError, loadConfig, ROLES, type Role } from './config';
import { createDb, type Database, DataDirLockedError } from './db/client';
import { migrateDb } from './db/migrate';
import { CliUsageError, EXPORTS_USAGE, runExportsCli } from './exports/admin-cli';
import { createApiToken, listApiTokens, revokeApiToken } from './http/tokens';
import { createLogger } from './logger';
import { NOTICE_CLI_USAGE, runNoticeCli } from './notify/notice-cli';

// `npm run cli -- <command>`: admin tasks (API tokens) and any chat command, run locally against
// the configured database with the admin role.
const USAGE = `usage:
  npm run cli -- token create <name> [--role viewer|operator|admin]   issue an API token (printed once)
  npm run cli -- token revoke <name>                                   revoke it
  npm run cli -- token list                                            list tokens
${EXPORTS_USAGE}${NOTICE_CLI_USAGE}
  npm run cli -- <command> [args…]                                     run a chat command, e.g. help, ping
`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const fail = (s: string, code = 1): never => {
  process.stderr.write(`${s}\n`);
  process.exit(code);
};

const argv = process.argv.slice(2);
if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
  out(USAGE);
  process.exit(0);
}

function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    return fail(err instanceof ConfigError ? err.message : String(err));
  }
}
const cfg = configOrExit();
const log = createLogger('warn');
const database: Database = await createDb({
  url: cfg.DATABASE_URL,
  dataDir: cfg.DATA_DIR,
  poolSize: 2,
  applicationName: 'chatops-cli',
}).catch((err: unknown) => fail(err instanceof DataDirLockedError ? err.message : `cannot open the database: ${(err as Error).message}`));
let exitCode = 0;
try {
  await migrateDb(database);
  const operator = `cli:${userInfo().username}`;
  if (argv[0] === 'token') {
    const { values, positionals } = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      options: { role: { type: 'string', default: 'operator' } },
    });
    const [action, name] = positionals;
    if (action === 'list') {
      for (const t of await listApiTokens(database)) {
        out(
          `${t.name}\t${t.role}\t${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'live'}\tcreated ${t.createdAt.toISOString()} by ${t.createdBy ?? '-'}\tlast used ${t.lastUsedAt?.toISOString() ?? 'never'}`,
        );
      }
    } else if (action === 'create' && name) {
      if (!ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')} (got "${values.role}")`);
      try {
        const token = await createApiToken(database, name, values.role as Role, operator);
        out(token);
        process.stderr.write(`token "${name}" (${values.role}) created; it is shown only once. Use: Authorization: Bearer <token>\n`);
      } catch (err) {
        if (String((err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code) === '23505') {
          fail(`a live token named "${name}" already exists; revoke it first or pick another name`);
        }
        throw err;
      }
    } else if (action === 'revoke' && name) {
      if (!(await revokeApiToken(database, name))) fail(`no live token named "${name}"`);
      out(`token "${name}" revoked`);
    } else {
      fail(USAGE);
    }
  } else if (argv[0] === 'source' || argv[0] === 'task') {
    const deps = createDeps({ config: cfg, db: database, log, callbackSecret: resolveCallbackSecret(cfg).secret });
    try {
      for (const line of await runExportsCli(deps, argv, operator)) out(line);
    } catch (err) {
      if (!(err instanceof CliUsageError)) throw err;
      process.stderr.write(`${err.message}\n`);
      exitCode = 2;
    }
  } else if (argv[0] === 'notice') {
    const deps = createDeps({ config: cfg, db: database, log, callbackSecret: resolveCallbackSecret(cfg).secret });
    exitCode = await runNoticeCli(deps, argv.slice(1), out);
  } else {
    const deps = createDeps({ config: cfg, db: database, log, callbackSecret: resolveCallbackSecret(cfg).secret });
    const caller = { key: operator, nick: operator, role: 'admin' as const };
    const text = argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
    const inboundId = await recordInbound(deps, { source: 'cli', robotCode: 'cli', msgId: randomUUID(), text, caller });
    const result = await dispatch(deps, { source: 'cli', caller, text, rateLimit: false });
    if (inboundId !== null) await finishInbound(deps, inboundId, result);
    for (const m of result.messages) out(messageToText(m));
    if (result.jobId) out(`job ${result.jobId}`);
    exitCode = result.outcome === 'ok' ? 0 : 2;
  }
} finally {
  await database.close();
}
process.exit(exitCode);

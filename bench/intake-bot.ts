import { loadConfig } from '../src/config';
import { createApiToken } from '../src/http/tokens';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';

// The process `npm run bench -- intake` loads: the bot exactly as main.ts starts it (compiled, in
// dist/bench/), plus an IPC port through which the bench asks for API tokens and for this
// process's own CPU time (process.cpuUsage()), so the figure is the bot's alone, not the load
// client's. Nothing here is on the bot's request path. Built by tools/build.mjs beside main.js.
type Ask = { op: 'tokens'; n: number } | { op: 'cpu' };

const config = loadConfig(process.env);
const log = createLogger(config.LOG_LEVEL);
const running = await startServer(config, log);
const { db } = running.deps;
// Count the statements sent through db.query (every statement on the intake path; Drizzle's own
// calls are not counted), so the bench can report round trips per message.
let statements = 0;
const query = db.query.bind(db);
(db as { query: typeof db.query }).query = (text, params) => {
  statements++;
  return query(text, params);
};

const reply = (msg: unknown) => process.send?.(msg);
process.on('message', async (ask: Ask) => {
  try {
    if (ask.op === 'cpu') {
      const u = process.cpuUsage();
      reply({ op: 'cpu', userUs: u.user, systemUs: u.system, statements });
      return;
    }
    const tokens: string[] = [];
    for (let i = 0; i < ask.n; i++) tokens.push(await createApiToken(db, `intake-${process.pid}-${i}`, 'operator', 'bench'));
    reply({ op: 'tokens', tokens });
  } catch (err) {
    reply({ op: 'error', message: String(err) });
  }
});
process.on('SIGTERM', async () => {
  await running.stop();
  process.exit(0);
});
reply({ op: 'ready', url: running.url });

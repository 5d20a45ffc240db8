import { type Config, ConfigError, loadConfig } from './config';
import { DataDirLockedError } from './db/client';
import { createLogger } from './logger';
import { PortUnavailableError, type RunningServer, startServer } from './server';
import { exitOnSignals } from './shutdown';

// Entry point of `npm start`: config -> db -> app -> server + DingTalk stream.
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nFix these variables (see README.md and .env.example) and start again.\n`);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config.LOG_LEVEL);
let running: RunningServer;
try {
  running = await startServer(config, log);
} catch (err) {
  if (err instanceof PortUnavailableError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof DataDirLockedError) {
    log.fatal(err.message);
    process.exit(1);
  }
  log.fatal({ err }, 'start-up failed');
  process.exit(1);
}

exitOnSignals(log, () => running.stop());

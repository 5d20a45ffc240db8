import { ConfigError, loadConfig } from './config';
import { DataDirLockedError } from './db/client';
import { createLogger } from './logger';
import { startServer } from './server';

// Entry point of `npm start`: config -> db -> app -> server + DingTalk stream.
let config;
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
let running;
try {
  running = await startServer(config, log);
} catch (err) {
  if (err instanceof DataDirLockedError) {
    log.fatal(err.message);
    process.exit(1);
  }
  log.fatal({ err }, 'start-up failed');
  process.exit(1);
}

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals > 1) {
    log.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  log.info({ signal }, 'shutting down (send the signal again to force)');
  running
    .stop()
    .then(() => process.exit(0))
    .catch((err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createDeps } from '../../src/bootstrap';
import { type Config, loadConfig } from '../../src/config';
import type { Database } from '../../src/db/client';
import type { Deps } from '../../src/deps';
import { type RunningServer, startServer } from '../../src/server';

export const TEST_SECRET = 'test-app-secret';

/** A logger that stays quiet unless TEST_LOG=debug is set. */
export const testLog = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A config as main.ts would load it, from a literal environment. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'chatops-test-')),
    DINGTALK_CLIENT_SECRET: TEST_SECRET,
    DINGTALK_STREAM: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    // Replies go to local sessionWebhook receivers (tools/local-chat.ts) on 127.0.0.1.
    DINGTALK_REPLY_HOSTS: '127.0.0.1',
    ...env,
  });
}

/** Deps over a test database, like main.ts builds them. */
export function testDeps(db: Database, env: Record<string, string> = {}, over: Partial<Deps> = {}): Deps {
  const config = testConfig(env);
  return { ...createDeps({ config, db, log: testLog, callbackSecret: config.DINGTALK_CLIENT_SECRET ?? TEST_SECRET }), ...over };
}

/** A whole instance (HTTP server on a free port, optional Stream client) over a test database. */
export function testServer(db: Database, env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(testConfig(env), testLog, { db });
}

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The key HTTP callbacks are signed with: the app secret when configured; otherwise a random
 * secret generated once and kept in DATA_DIR, so the callback is never unauthenticated.
 */
export function resolveCallbackSecret(config: { DINGTALK_CLIENT_SECRET?: string; DATA_DIR: string }): {
  secret: string;
  generatedAt?: string;
} {
  if (config.DINGTALK_CLIENT_SECRET) return { secret: config.DINGTALK_CLIENT_SECRET };
  const file = callbackSecretPath(config.DATA_DIR);
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing) return { secret: existing, generatedAt: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, generatedAt: file };
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: readFileSync(file, 'utf8').trim(), generatedAt: file };
    throw err;
  }
}

/** Where the generated callback secret lives. */
export function callbackSecretPath(dataDir: string): string {
  return path.join(dataDir, 'callback-secret');
}

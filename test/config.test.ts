import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, loadConfig } from '../src/config';
import { ROOT } from './helpers/cli';

describe('config', () => {
  it('has defaults that need no environment at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      DATA_DIR: './data',
      LOCALE: 'zh-CN',
      DEFAULT_ROLE: 'operator',
      streamEnabled: false,
      robotCode: 'local',
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PUBLIC_URL).toBe('http://localhost:3000');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('lists every invalid variable with how to fix it', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        PORT: '70000',
        LOCALE: 'fr',
        DATABASE_URL: 'mysql://x',
        RATE_LIMIT_PER_MINUTE: 'soon',
        DINGTALK_CLIENT_SECRET: 's3cret',
        DINGTALK_STREAM: 'maybe',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = error?.problems.map((p) => p.split(':')[0]);
    expect(keys).toEqual(expect.arrayContaining(['PORT', 'LOCALE', 'DATABASE_URL', 'RATE_LIMIT_PER_MINUTE', 'DINGTALK_STREAM']));
    expect(error?.problems.find((p) => p.startsWith('LOCALE'))).toContain('example: LOCALE=zh-CN');
  });

  it('never echoes secrets in errors', () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error(`${JSON.stringify(env)} was accepted`);
    };
    // A bad URL with a password: reported (with the user), the password masked.
    const url = problemsOf({ DATABASE_URL: 'mysql://u:hunter2@h/db' });
    expect(url).toBeInstanceOf(ConfigError);
    expect(url.message).toContain('DATABASE_URL');
    expect(url.message).toContain('mysql://u:***@h/db');
    expect(url.message).not.toContain('hunter2');
    // A bad value in a secret variable is not shown at all.
    const secret = problemsOf({ DINGTALK_CLIENT_SECRET: 's3cr3t-value', DINGTALK_STREAM: 'on' });
    expect(secret.message).not.toContain('s3cr3t-value');
  });

  it('reads the intake settings', () => {
    const c = loadConfig({
      DINGTALK_REPLY_HOSTS: 'gw.example.com, 127.0.0.1:8080',
      INBOUND_LEASE_MS: '5000',
      STREAM_PING_INTERVAL_MS: '10000',
    });
    expect(c).toMatchObject({
      DINGTALK_REPLY_HOSTS: ['gw.example.com', '127.0.0.1:8080'],
      INBOUND_LEASE_MS: 5000,
      STREAM_PING_INTERVAL_MS: 10000,
    });
    expect(loadConfig({})).toMatchObject({ DINGTALK_REPLY_HOSTS: [], INBOUND_LEASE_MS: 30_000, AMQP_RECONNECT_BUDGET_MS: 60_000 });
    expect(() => loadConfig({ INBOUND_LEASE_MS: '10' })).toThrow(/INBOUND_LEASE_MS: expected a whole number between 500 and 600000/);
  });

  it('turns Stream mode on only with both credentials', () => {
    expect(loadConfig({ DINGTALK_CLIENT_ID: 'a', DINGTALK_CLIENT_SECRET: 'b' }).streamEnabled).toBe(true);
    expect(loadConfig({ DINGTALK_CLIENT_ID: 'a', DINGTALK_CLIENT_SECRET: 'b', DINGTALK_STREAM: 'off' }).streamEnabled).toBe(false);
    expect(() => loadConfig({ DINGTALK_STREAM: 'on' })).toThrow(/DINGTALK_STREAM/);
    expect(() => loadConfig({ DINGTALK_CLIENT_ID: 'a' })).toThrow(/DINGTALK_CLIENT_SECRET/);
  });

  it('is documented: README and .env.example name every variable', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    for (const key of CONFIG_KEYS) {
      expect(readme, `README.md lacks ${key}`).toContain(`\`${key}\``);
      expect(example, `.env.example lacks ${key}`).toMatch(new RegExp(`^#? ?${key}=`, 'm'));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('notice settings', () => {
  it('accepts only DingTalk https hosts or a loopback stand-in as DINGTALK_OAPI_BASE', () => {
    expect(loadConfig({}).DINGTALK_OAPI_BASE).toBe('https://oapi.dingtalk.com');
    expect(loadConfig({ DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.io/' }).DINGTALK_OAPI_BASE).toBe('https://oapi.dingtalk.io');
    expect(loadConfig({ DINGTALK_OAPI_BASE: 'http://127.0.0.1:4567' }).DINGTALK_OAPI_BASE).toBe('http://127.0.0.1:4567');
    for (const bad of [
      'http://oapi.dingtalk.com',
      'https://oapi.dingtalk.com.evil.example',
      'https://example.com',
      'https://oapi.dingtalk.com/robot',
      'nonsense',
    ]) {
      const p = problems({ DINGTALK_OAPI_BASE: bad });
      expect(p, bad).toHaveLength(1);
      expect(p[0]).toMatch(
        /^DINGTALK_OAPI_BASE: expected https:\/\/ on a DingTalk host.*example: DINGTALK_OAPI_BASE=https:\/\/oapi.dingtalk.com/,
      );
    }
  });

  it('asks for the sender and the password that SMTP needs, without echoing the password', () => {
    expect(problems({ SMTP_HOST: 'smtp.example.com' })[0]).toMatch(/^SMTP_FROM: missing while SMTP_HOST is set/);
    expect(problems({ SMTP_HOST: 'smtp.example.com', SMTP_USER: 'bot@example.com' })[0]).toMatch(/^SMTP_PASSWORD: missing/);
    const c = loadConfig({ SMTP_HOST: 'smtp.example.com', SMTP_USER: 'bot@example.com', SMTP_PASSWORD: 'hunter2' });
    expect(c).toMatchObject({ SMTP_PORT: 465, SMTP_SECURE: 'auto', SMTP_MAX_ATTACHMENT_BYTES: 26_214_400, NOTICE_ROBOT_PER_MINUTE: 20 });
    expect(problems({ NOTICE_ROBOT_PER_MINUTE: '30' })[0]).toMatch(/^NOTICE_ROBOT_PER_MINUTE: expected a whole number between 1 and 20/);
    expect(JSON.stringify(problems({ SMTP_PASSWORD: 'hunter2', SMTP_PORT: 'x' }))).not.toContain('hunter2');
  });
});

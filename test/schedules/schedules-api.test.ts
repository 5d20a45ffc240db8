import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/http/tokens';
import type { RunningServer } from '../../src/server';
import { createTestDb, type TestDb } from '../helpers/db';
import { testServer } from '../helpers/deps';
import { type FakeDingTalk, startFakeDingTalk, waitUntil } from '../helpers/fake-dingtalk';

// The schedules HTTP API (admin webhooks) with bearer tokens; a schedule made over HTTP with a
// group target delivers its result through the robot OpenAPI (a local server speaking it).
let t: TestDb;
let server: RunningServer;
let dingtalk: FakeDingTalk;
let operator: string;
let viewer: string;

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
};

beforeAll(async () => {
  t = await createTestDb('postgres');
  dingtalk = await startFakeDingTalk();
  server = await testServer(t.db, {
    DINGTALK_CLIENT_ID: 'app-key',
    DINGTALK_CLIENT_SECRET: 'test-app-secret',
    DINGTALK_API_BASE: dingtalk.apiBase,
    DINGTALK_STREAM: 'off',
  });
  operator = await createApiToken(t.db, 'reports-bot', 'operator', 'test');
  viewer = await createApiToken(t.db, 'dashboard', 'viewer', 'test');
});
afterAll(async () => {
  await server?.stop();
  await dingtalk?.close();
  await t?.drop();
});

describe('schedules API', () => {
  it('creates a schedule with a group target, runs it, and the result reaches that group', async () => {
    const created = await call('POST', '/api/schedules', operator, {
      name: 'api-clean',
      type: 'cron',
      when: '0 9 * * 1-5',
      kind: 'cleanup',
      days: 60,
      target: 'cid-reports-group',
    });
    expect(created.status).toBe(201);
    expect(created.json.message).toContain('每个工作日 09:00（北京时间）');
    expect(created.json.data.name).toBe('api-clean');

    const ran = await call('POST', '/api/schedules/api-clean/run', operator);
    expect(ran.status).toBe(200);
    const jobId = ran.json.jobId as number;
    expect(jobId).toBeGreaterThan(0);
    const sent = await waitUntil(
      () => dingtalk.sends.find((s) => s.body.openConversationId === 'cid-reports-group' && JSON.stringify(s.param).includes(`#${jobId}`)),
      30_000,
      'group notice through the OpenAPI',
    );
    expect(sent.path).toBe('/v1.0/robot/groupMessages/send');

    const one = await call('GET', '/api/schedules/api-clean', viewer);
    expect(one.status).toBe(200);
    expect(one.json.schedule).toMatchObject({ name: 'api-clean', kind: 'jobs_cleanup', payload: { olderThanDays: 60 }, state: 'active' });
    expect(one.json.runs[0]).toMatchObject({ jobId, reason: 'manual', outcome: 'fired' });
    const list = await call('GET', '/api/schedules', viewer);
    expect(list.json.schedules.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['api-clean', 'retention-cleanup']));
  });

  it('pause and resume; the audit log (inbound log) records who changed what', async () => {
    expect((await call('POST', '/api/schedules/api-clean/pause', operator)).status).toBe(200);
    expect((await t.db.query<{ state: string }>(`select state from schedules where name = 'api-clean'`))[0]?.state).toBe('paused');
    const again = await call('POST', '/api/schedules/api-clean/pause', operator);
    expect(again.status).toBe(409);
    expect((await call('POST', '/api/schedules/api-clean/resume', operator)).status).toBe(200);
    const audit = await t.db.query<{ sender_id: string; command: string; outcome: string }>(
      `select sender_id, command, outcome from inbound_messages where command like 'schedule%' order by id`,
    );
    expect(audit.map((a) => a.command)).toEqual(['schedule add', 'schedule run', 'schedule pause', 'schedule pause', 'schedule resume']);
    expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ok', 'ok', 'conflict', 'ok']);
  });

  it('bad input, unknown names and low roles are refused with a reason; nothing changes', async () => {
    const before = (await t.db.query<{ n: number }>('select count(*)::int as n from schedules'))[0]?.n;
    const bad = await call('POST', '/api/schedules', operator, { name: 'x', type: 'cron', when: 'every day', kind: 'cleanup' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('when');
    expect(bad.json.error.message).toContain('cron 表达式 every day 有 2 段，应为 5 段');
    const byViewer = await call('POST', '/api/schedules', viewer, { name: 'y', type: 'cron', when: '0 9 * * *', kind: 'cleanup' });
    expect(byViewer.status).toBe(403);
    expect((await call('POST', '/api/schedules/nope/run', operator)).status).toBe(404);
    expect((await call('POST', '/api/schedules/api-clean/explode', operator)).status).toBe(400);
    expect((await call('GET', '/api/schedules/nope', viewer)).status).toBe(404);
    expect((await t.db.query<{ n: number }>('select count(*)::int as n from schedules'))[0]?.n).toBe(before);
  });
});

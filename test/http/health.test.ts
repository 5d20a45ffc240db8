import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createDb } from '../../src/db/client';
import { AMQP_URL } from '../helpers/amqp';
import { freePort } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';
import { pgUrl } from '../helpers/pg';

type Health = {
  status: string;
  reasons?: string[];
  database: { ok: boolean; error?: string };
  rabbitmq: { configured: boolean; ok?: boolean; error?: string };
};
let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

const health = async (env: Record<string, string>, db = tdb.db) => {
  const res = await createApp(testDeps(db, env)).request('/health');
  return { status: res.status, body: (await res.json()) as Health };
};

describe('GET /health', () => {
  it('reports RabbitMQ beside the database when AMQP_URL is set', async () => {
    const r = await health({ AMQP_URL });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', database: { ok: true }, rabbitmq: { configured: true, ok: true } });
    expect(r.body.reasons).toBeUndefined();
    const without = await health({});
    expect(without.body.rabbitmq).toEqual({ configured: false });
  });

  it('is degraded, still 200, with the reason in the chat language when the broker is down', async () => {
    const port = await freePort();
    const r = await health({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}`, LOCALE: 'en' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('degraded');
    expect(r.body.rabbitmq).toMatchObject({ configured: true, ok: false });
    expect(r.body.reasons?.[0]).toMatch(/^RabbitMQ is unreachable \(reference [0-9a-f]{8}/);
    expect(JSON.stringify(r.body)).not.toContain('ECONNREFUSED');
  });

  it('answers 503 only when the database is unreachable, without the raw database error', async () => {
    const missing = await createDb({ url: pgUrl('chatops_no_such_database'), poolSize: 1 });
    try {
      const r = await health({}, missing);
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unavailable');
      expect(r.body.database.ok).toBe(false);
      expect(r.body.database.error).toMatch(/^数据库无法连接（参考号 [0-9a-f]{8}，详情见日志）。$/);
      expect(JSON.stringify(r.body)).not.toContain('chatops_no_such_database');
      expect(JSON.stringify(r.body)).not.toContain('does not exist');
    } finally {
      await missing.close();
    }
  });
});

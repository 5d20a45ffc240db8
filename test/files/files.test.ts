import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDisposition, filePath, getFile, storeFile, tempFilePath, verifyFileLink } from '../../src/files';
import { fileLinkKey } from '../../src/files/link';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { freePort } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';

let t: TestDb;
let server: RunningServer;
let boss: LocalChat;
let publicUrl: string;

beforeAll(async () => {
  t = await createTestDb('postgres');
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  server = await testServer(t.db, { PORT: String(port), PUBLIC_URL: `${publicUrl}/`, ADMIN_STAFF_IDS: 'boss' });
  boss = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'boss' });
});
afterAll(async () => {
  await boss?.close();
  await server?.stop();
  await t?.drop();
});

describe('signed links (pure)', () => {
  const key = fileLinkKey('s3cret');
  it('accepts its own signature until the expiry, rejects any change', async () => {
    const { signFileLink } = await import('../../src/files/link');
    const sig = signFileLink(key, 7, 2_000);
    expect(verifyFileLink(key, 7, '2000', sig, 1_999_000)).toBe('ok');
    expect(verifyFileLink(key, 7, '2000', sig, 2_000_000)).toBe('expired');
    expect(verifyFileLink(key, 8, '2000', sig, 0)).toBe('bad_signature');
    expect(verifyFileLink(key, 7, '2001', sig, 0)).toBe('bad_signature');
    expect(verifyFileLink(fileLinkKey('other'), 7, '2000', sig, 0)).toBe('bad_signature');
    expect(verifyFileLink(key, 7, undefined, sig, 0)).toBe('bad_signature');
  });
  it('writes an RFC 6266 filename* that keeps Chinese names', () => {
    expect(contentDisposition('昨日任务 (1).xlsx')).toBe(
      `attachment; filename="____ (1).xlsx"; filename*=UTF-8''%E6%98%A8%E6%97%A5%E4%BB%BB%E5%8A%A1%20%281%29.xlsx`,
    );
    expect(contentDisposition('a"b.csv')).toBe(`attachment; filename="a_b.csv"; filename*=UTF-8''a%22b.csv`);
  });
});

describe('file store and GET /files', () => {
  it('stores a file from a path and from a stream, records size, rows and sha256, links under PUBLIC_URL', async () => {
    const deps = server.deps;
    const tmp = await tempFilePath(deps, 'csv');
    const content = 'a,b\n1,中文\n';
    writeFileSync(tmp, content);
    const f = await storeFile(deps, { jobId: 42, name: '导出-2026.csv', path: tmp, rows: 1 });
    expect(existsSync(tmp)).toBe(false);
    expect(f.url.startsWith(`${publicUrl}/files/${f.id}/`)).toBe(true);
    const rec = await getFile(t.db, f.id);
    expect(rec).toMatchObject({ jobId: 42, name: '导出-2026.csv', size: Buffer.byteLength(content), rows: 1 });
    expect(rec?.sha256).toBe(createHash('sha256').update(content).digest('hex'));

    const res = await fetch(f.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(content);
    const cd = res.headers.get('content-disposition') ?? '';
    const star = /filename\*=UTF-8''([^;]+)/.exec(cd)?.[1] ?? '';
    expect(decodeURIComponent(star)).toBe('导出-2026.csv');
    expect(res.headers.get('content-type')).toContain('text/csv');

    const big = Buffer.alloc(300_000, 7);
    const s = await storeFile(deps, { name: 'report.bin', stream: Readable.from([big.subarray(0, 100_000), big.subarray(100_000)]) });
    expect(s.size).toBe(300_000);
    const body = Buffer.from(await (await fetch(s.url)).arrayBuffer());
    expect(body.equals(big)).toBe(true);
  });

  it('answers 403 to a tampered link, 410 to an expired or removed one', async () => {
    const deps = server.deps;
    const f = await storeFile(deps, { name: 'x.txt', stream: Readable.from([Buffer.from('hello')]) });
    const u = new URL(f.url);
    const sig = u.searchParams.get('s') ?? '';
    const tamperedSig = new URL(f.url);
    tamperedSig.searchParams.set('s', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`);
    expect((await fetch(tamperedSig)).status).toBe(403);
    const longer = new URL(f.url);
    longer.searchParams.set('e', String(Number(u.searchParams.get('e')) + 3600));
    expect((await fetch(longer)).status).toBe(403);
    const other = new URL(f.url.replace(`/files/${f.id}/`, `/files/${f.id + 1000}/`));
    expect((await fetch(other)).status).toBe(403);
    expect((await fetch(`${publicUrl}/files/${f.id}/x.txt`)).status).toBe(403);

    const short = await storeFile(deps, { name: 'y.txt', stream: Readable.from([Buffer.from('bye')]), ttlMs: 1000 });
    // The link carries whole seconds: wait until the server's clock has passed it.
    while (deps.now() < short.expiresAt.getTime() + 1000) await new Promise((r) => setTimeout(r, 100));
    const expired = await fetch(short.url);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('过期');

    const gone = await storeFile(deps, { name: 'z.txt', stream: Readable.from([Buffer.from('z')]) });
    await t.db.query(`update files set removed_at = now() where id = $1`, [gone.id]);
    expect((await fetch(gone.url)).status).toBe(410);
  });

  it('the clean-up job (/cleanup in chat) deletes expired files and their links answer 410', async () => {
    const deps = server.deps;
    const live = await storeFile(deps, { name: '保留.txt', stream: Readable.from([Buffer.from('keep')]) });
    const old = await storeFile(deps, { name: '过期.txt', stream: Readable.from([Buffer.from('old')]) });
    await t.db.query(`update files set expires_at = now() - interval '1 second' where id = $1`, [old.id]);
    const oldPath = filePath(deps, (await getFile(t.db, old.id)) as never);
    expect(existsSync(oldPath)).toBe(true);
    const from = boss.replies.length;
    await boss.send('/cleanup');
    const ack = await boss.waitFor((r) => /#(\d+)/.test(r.text), 10_000, from);
    const id = Number(/#(\d+)/.exec(ack.text)?.[1]);
    await waitForStatus(t.db, id, ['succeeded']);
    const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('过期文件'), 20_000, from);
    expect(final.text).toMatch(/删除了 \d+ 个过期文件/);
    expect(existsSync(oldPath)).toBe(false);
    expect((await getFile(t.db, old.id))?.removedAt).toBeInstanceOf(Date);
    expect((await fetch(old.url)).status).toBe(410);
    expect((await fetch(live.url)).status).toBe(200);
    expect(await readdir(path.dirname(oldPath))).toContain(path.basename(filePath(deps, (await getFile(t.db, live.id)) as never)));
  });
});

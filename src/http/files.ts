import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { Deps } from '../deps';
import { contentDisposition, fileLinkKey, filePath, getFile, verifyFileLink } from '../files';

/**
 * GET /files/:id/:name?e=<exp>&s=<sig> — a stored file behind a signed, expiring link. No token:
 * the signature is the permission. Tampered → 403; expired or removed → 410.
 */
export function fileRoutes(deps: Deps): Hono {
  const app = new Hono();
  const key = fileLinkKey(deps.callbackSecret);
  app.get('/files/:id/:name?', async (c) => {
    const id = Number(c.req.param('id'));
    const page = (status: 403 | 410, msg: Parameters<Deps['t']>[0]) => c.text(deps.t(msg), status, { 'cache-control': 'no-store' });
    if (!Number.isSafeInteger(id) || id <= 0) return page(403, 'files.forbidden');
    const check = verifyFileLink(key, id, c.req.query('e'), c.req.query('s'), deps.now());
    if (check === 'bad_signature') return page(403, 'files.forbidden');
    if (check === 'expired') return page(410, 'files.expired');
    const f = await getFile(deps.db, id);
    if (!f || f.removedAt) return page(410, 'files.removed');
    if (f.expiresAt.getTime() <= deps.now()) return page(410, 'files.expired');
    const p = filePath(deps, f);
    const st = await stat(p).catch(() => undefined);
    if (!st) return page(410, 'files.removed');
    const body = Readable.toWeb(createReadStream(p)) as ReadableStream;
    return c.body(body, 200, {
      'content-type': f.contentType,
      'content-length': String(st.size),
      'content-disposition': contentDisposition(f.name),
      'cache-control': 'private, no-store',
      'x-content-sha256': f.sha256,
    });
  });
  return app;
}

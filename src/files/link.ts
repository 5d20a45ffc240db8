import { createHmac, timingSafeEqual } from 'node:crypto';

/** The key download links are signed with, derived from the process secret so it never leaves it. */
export function fileLinkKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('chatops-files-v1').digest();
}

/** The signature of a link to file `id` valid until `expSec` (unix seconds). */
export function signFileLink(key: Buffer, id: number, expSec: number): string {
  return createHmac('sha256', key).update(`${id}.${expSec}`).digest('base64url');
}

/** The path part of a signed link: `/files/<id>/<name>?e=<exp>&s=<sig>`. */
export function fileLinkPath(key: Buffer, id: number, name: string, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `/files/${id}/${encodeURIComponent(name)}?e=${exp}&s=${signFileLink(key, id, exp)}`;
}

export type LinkCheck = 'ok' | 'bad_signature' | 'expired';

/** Check a link's signature first (tampered → bad_signature), then its expiry against `nowMs`. */
export function verifyFileLink(key: Buffer, id: number, exp: string | undefined, sig: string | undefined, nowMs: number): LinkCheck {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'bad_signature';
  const want = Buffer.from(signFileLink(key, id, Number(exp)));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad_signature';
  return Number(exp) * 1000 <= nowMs ? 'expired' : 'ok';
}

/**
 * A Content-Disposition header that keeps a non-ASCII name (RFC 6266 / RFC 5987 `filename*`),
 * with an ASCII fallback for old clients.
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The media type for a stored file, by its extension. */
export function contentTypeOf(name: string): string {
  const ext = name.toLowerCase().split('.').pop();
  if (ext === 'xlsx') return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (ext === 'csv') return 'text/csv; charset=utf-8';
  if (ext === 'json') return 'application/json';
  if (ext === 'txt' || ext === 'md') return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

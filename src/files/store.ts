import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config';
import type { Database } from '../db/client';
import { contentTypeOf, fileLinkKey, fileLinkPath } from './link';

/** What the file store needs from the process's Deps. */
export interface FileDeps {
  config: Pick<Config, 'FILES_DIR' | 'FILES_TTL_HOURS' | 'PUBLIC_URL'>;
  db: Database;
  /** The process secret; links are signed with a key derived from it. */
  callbackSecret: string;
  now: () => number;
}

export interface StoreFileInput {
  /** The job that produced it (shown in history, removed with it). */
  jobId?: number | null;
  /** The name the user downloads it as (Chinese is fine). */
  name: string;
  /** A finished file to move into the store… */
  path?: string;
  /** …or the bytes to write there. */
  stream?: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  rows?: number | null;
  /** How long the link stays valid; default FILES_TTL_HOURS. */
  ttlMs?: number;
}

/** A stored file and its signed link. */
export interface StoredFile {
  id: number;
  name: string;
  size: number;
  sha256: string;
  rows: number | null;
  expiresAt: Date;
  url: string;
}

/** A file's record. */
export interface FileRecord {
  id: number;
  jobId: number | null;
  name: string;
  storedAs: string;
  size: number;
  rows: number | null;
  sha256: string;
  contentType: string;
  createdAt: Date;
  expiresAt: Date;
  removedAt: Date | null;
}

/**
 * A path inside FILES_DIR where a writer can build a file before `storeFile({ path })` moves it in
 * (same file system: a rename, no copy).
 */
export async function tempFilePath(deps: Pick<FileDeps, 'config'>, ext: string): Promise<string> {
  const dir = path.join(deps.config.FILES_DIR, 'tmp');
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${randomUUID()}${ext.startsWith('.') || ext === '' ? ext : `.${ext}`}`);
}

/**
 * Put a file in the store: moved (path) or written (stream) under FILES_DIR, its size and SHA-256
 * recorded with its job, name, row count and expiry. Returns a signed link under PUBLIC_URL.
 *
 * @example
 * const f = await storeFile(deps, { jobId, name: '昨日任务.xlsx', path: tmp, rows: 1200 });
 * reply(`[${f.name}](${f.url})`);
 */
export async function storeFile(deps: FileDeps, input: StoreFileInput): Promise<StoredFile> {
  if (!input.path === !input.stream) throw new Error('storeFile needs exactly one of path or stream');
  const name = safeName(input.name);
  const ext = path.extname(name).slice(0, 16);
  const storedAs = `${new Date(deps.now()).toISOString().slice(0, 7)}/${randomUUID()}${ext}`;
  const target = path.join(deps.config.FILES_DIR, storedAs);
  await mkdir(path.dirname(target), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    if (input.path) {
      for await (const chunk of createReadStream(input.path)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      await rename(input.path, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        await copyFile(input.path as string, target);
        await rm(input.path as string, { force: true });
      });
    } else {
      await pipeline(input.stream as NodeJS.ReadableStream, counter, createWriteStream(target));
    }
  } catch (err) {
    await rm(target, { force: true });
    throw err;
  }
  const sizeOnDisk = (await stat(target)).size;
  if (sizeOnDisk !== size) throw new Error(`stored ${sizeOnDisk} bytes of ${name}, read ${size}`);
  const expiresAt = new Date(deps.now() + (input.ttlMs ?? deps.config.FILES_TTL_HOURS * 3_600_000));
  const sha256 = hash.digest('hex');
  const [row] = await deps.db.query<{ id: number }>(
    `insert into files (job_id, name, stored_as, size, rows, sha256, content_type, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
    [input.jobId ?? null, name, storedAs, size, input.rows ?? null, sha256, contentTypeOf(name), expiresAt],
  );
  const id = Number(row?.id);
  return { id, name, size, sha256, rows: input.rows ?? null, expiresAt, url: fileUrl(deps, { id, name, expiresAt }) };
}

/** The signed download link of a stored file, valid until it expires. */
export function fileUrl(deps: Pick<FileDeps, 'config' | 'callbackSecret'>, f: { id: number; name: string; expiresAt: Date }): string {
  return `${deps.config.PUBLIC_URL}${fileLinkPath(fileLinkKey(deps.callbackSecret), f.id, f.name, f.expiresAt)}`;
}

/** A file's record, or undefined. */
export async function getFile(db: Database, id: number): Promise<FileRecord | undefined> {
  const [r] = await db.query<Record<string, unknown>>(`select * from files where id = $1`, [id]);
  return r ? toRecord(r) : undefined;
}

/** The live (not removed, not expired) files a job produced, newest first. */
export async function filesOfJobs(db: Database, jobIds: number[]): Promise<FileRecord[]> {
  if (jobIds.length === 0) return [];
  const rows = await db.query<Record<string, unknown>>(`select * from files where job_id = any($1::bigint[]) order by id desc`, [jobIds]);
  return rows.map(toRecord);
}

/** Where a record's bytes are on disk. */
export function filePath(deps: Pick<FileDeps, 'config'>, f: Pick<FileRecord, 'storedAs'>): string {
  return path.join(deps.config.FILES_DIR, f.storedAs);
}

function toRecord(r: Record<string, unknown>): FileRecord {
  return {
    id: Number(r.id),
    jobId: r.job_id === null ? null : Number(r.job_id),
    name: String(r.name),
    storedAs: String(r.stored_as),
    size: Number(r.size),
    rows: r.rows === null ? null : Number(r.rows),
    sha256: String(r.sha256),
    contentType: String(r.content_type),
    createdAt: new Date(r.created_at as Date),
    expiresAt: new Date(r.expires_at as Date),
    removedAt: r.removed_at ? new Date(r.removed_at as Date) : null,
  };
}

/** A download name without path separators or control characters (the rest, Chinese included, stays). */
export function safeName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we strip.
  const s = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return (s === '' || s === '.' || s === '..' ? 'file' : s).slice(0, 200);
}

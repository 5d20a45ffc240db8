import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Settings of the embedded Postgres. Its defaults are a server's: 128 MB of shared buffers, every page
 * of which the WASM heap touches at start and keeps (about 110 MB of RSS), and shared memory sized for
 * 100 connections when PGlite only ever has one (about 20 MB). PGlite writes these into the data
 * directory's postgresql.conf. Measured in README "Operations".
 */
export const PGLITE_CONF = ['shared_buffers = 16MB', 'max_connections = 10'];

/**
 * Give an empty PGlite directory a cluster without running initdb in this process: initdb peaks at
 * 700+ MB of WASM memory, which a WASM instance never gives back even after it is closed. The cluster
 * is copied from a template that a short-lived child process created once (`npm ci` and `npm run
 * build` prepare it), or, if the template cannot be kept, created by such a child in place.
 */
export async function initPgliteDir(pgDir: string): Promise<void> {
  let template: string | undefined;
  try {
    template = await preparePgliteTemplate();
  } catch {
    // No writable cache (read-only install): create this directory's cluster directly.
  }
  if (template) cpSync(template, pgDir, { recursive: true });
  else await initdbInChild(pgDir);
}

/**
 * The template cluster for this PGlite version and these settings, under node_modules/.cache; created
 * by a child process when missing. Concurrent callers each build their own and the first rename wins.
 */
export async function preparePgliteTemplate(): Promise<string> {
  const req = createRequire(import.meta.url);
  const entry = req.resolve('@electric-sql/pglite');
  const pkgDir = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`));
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const key = createHash('sha256').update(JSON.stringify(PGLITE_CONF)).digest('hex').slice(0, 8);
  const cache = path.join(pkgDir, '..', '..', '.cache', 'chatops-bot');
  const dir = path.join(cache, `pglite-${version}-${key}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = `${dir}.${process.pid}.${Date.now()}`;
  try {
    await initdbInChild(tmp);
    rmSync(path.join(tmp, 'postmaster.pid'), { force: true });
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(path.join(dir, 'PG_VERSION'))) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Run PGlite's initdb for pgDir in a child process, whose memory goes when it exits. */
async function initdbInChild(pgDir: string): Promise<void> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `const { PGlite } = require(${JSON.stringify(pglite)});
PGlite.create({ dataDir: process.argv[1], postgresqlconf: JSON.parse(process.argv[2]) })
  .then((pg) => pg.close())
  .catch((err) => { console.error(err); process.exit(1); });`;
  const args = ['--liftoff-only', '-e', script, pgDir, JSON.stringify(PGLITE_CONF)];
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 180_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`creating the embedded database in ${pgDir} failed: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

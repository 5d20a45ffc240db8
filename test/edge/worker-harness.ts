import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Build the Worker bundle exactly as `wrangler deploy` would, without uploading it. */
export async function buildWorker(): Promise<{ outdir: string; script: string }> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'chatops-edge-'));
  await run(path.join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    timeout: 120_000,
  });
  return { outdir, script: path.join(outdir, 'worker.js') };
}

/** The compatibility settings wrangler.toml deploys with (read from it, so tests run what ships). */
function compat(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? '';
  if (!date) throw new Error('wrangler.toml has no compatibility_date');
  return { compatibilityDate: date, compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string) };
}

/** A running Worker in workerd (Miniflare), its Hyperdrive binding pointed at a local database. */
export interface LocalWorker {
  url: string;
  close(): Promise<void>;
}

/** Run the built bundle in workerd on 127.0.0.1 with the given database and string bindings. */
export async function startWorker(script: string, databaseUrl: string, vars: Record<string, string>): Promise<LocalWorker> {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: [{ type: 'ESModule', path: script }],
    modulesRoot: path.dirname(script),
    ...compat(),
    // Hyperdrive insists on a password; the local server's trust auth ignores it.
    hyperdrives: { HYPERDRIVE: withPassword(databaseUrl) },
    bindings: vars,
    // Never fetch Request.cf from Cloudflare: tests talk to 127.0.0.1 only.
    cf: false,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, close: () => mf.dispose() };
}

function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = 'local';
  return u.toString();
}

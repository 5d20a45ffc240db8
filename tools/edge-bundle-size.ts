// `npm run edge:size`: build the Worker bundle as `wrangler deploy` would (--dry-run, nothing is
// uploaded), report its size raw and gzip-compressed, and fail when the compressed size passes the
// limit (Workers' free plan allows 1 MB after compression; the same limit here keeps the edge lean).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** Largest accepted gzip size of the Worker bundle. */
export const EDGE_BUNDLE_LIMIT = 1024 * 1024;

/** Sizes of the built bundle's modules (source maps left out): raw and gzip bytes. */
export function measureBundle(outdir: string): { files: string[]; raw: number; gzip: number } {
  const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = readFileSync(path.join(outdir, f));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files, raw, gzip };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(import.meta.dirname, '..');
  const outdir = mkdtempSync(path.join(tmpdir(), 'chatops-edge-size-'));
  try {
    execFileSync(path.join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    const m = measureBundle(outdir);
    const verdict = m.gzip <= EDGE_BUNDLE_LIMIT ? 'ok' : 'TOO LARGE';
    process.stdout.write(
      `edge bundle (${m.files.join(', ')}): ${kib(m.raw)}, gzip ${kib(m.gzip)} — limit ${kib(EDGE_BUNDLE_LIMIT)}: ${verdict}\n`,
    );
    if (m.gzip > EDGE_BUNDLE_LIMIT) process.exitCode = 1;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

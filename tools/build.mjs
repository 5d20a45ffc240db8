// `npm run build`: compile the entry points to JavaScript in dist/ (run by `npm ci` through prepare,
// and again by `npm start` and `npm run cli`, so `npm ci && npm start` stays the whole set-up). esbuild
// rather than tsc: the sources import without extensions (moduleResolution "Bundler"), which tsc would
// emit unchanged and Node's ESM loader would refuse. Packages stay external; source maps make stack
// traces name .ts lines (node --enable-source-maps). Type checking is `npm run typecheck`.
// Then it prepares the embedded database's template cluster (src/db/pglite-init.ts), once.
import { execFileSync } from 'node:child_process';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('npm run build needs the dev dependencies (esbuild): run `npm ci` without --omit=dev.\n');
  // Under `npm ci --omit=dev` (prepare) there is nothing to build with; don't fail the install.
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}

// dist/ is written over, not emptied first: a running bot (npm start) may still import a lazy chunk
// while `npm run cli` rebuilds, and chunks are named by content, so the same source yields the same files.
const outdir = new URL('../dist/', import.meta.url).pathname;
await esbuild.build({
  entryPoints: [
    'src/main.ts',
    'src/cli.ts',
    'tools/pglite-template.ts',
    'bench/footprint-bot.ts',
    'bench/export.ts',
    'bench/intake-bot.ts',
  ],
  outbase: '.',
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  sourcesContent: false,
  chunkNames: 'src/chunks/[name]-[hash]',
  logLevel: 'warning',
});
execFileSync(process.execPath, ['--enable-source-maps', `${outdir}tools/pglite-template.js`], { stdio: 'inherit' });

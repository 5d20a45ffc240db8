// `npm run build`: compile the entry points to JavaScript in dist/ (run by `npm start` and `npm run cli`
// before they start, so `npm ci && npm start` stays the whole set-up). esbuild rather than tsc: the
// sources import without extensions (moduleResolution "Bundler"), which tsc would emit unchanged and
// Node's ESM loader would refuse. Packages stay external; source maps make stack traces name .ts lines
// (node --enable-source-maps). Type checking is `npm run typecheck`.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts', 'src/cli.ts', 'bench/footprint-bot.ts'],
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

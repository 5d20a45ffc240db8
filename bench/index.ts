// `npm run bench -- <name>`: run a benchmark and print its figures as JSON.
export {};

const benches: Record<string, () => Promise<unknown>> = {
  parse: async () => (await import('./parse')).run(),
  jobs: async () => (await import('./jobs')).run(),
  push: async () => (await import('./push')).run(),
  footprint: async () => (await import('./footprint')).run(),
  diagnose: async () => (await import('./diagnose')).run(),
  export: async () => (await import('./export')).run(),
  intake: async () => (await import('./intake')).run(),
};

const name = process.argv[2];
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`);
  process.exit(2);
}
const result = await bench();
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(0);

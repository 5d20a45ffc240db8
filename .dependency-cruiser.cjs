// The direction of dependencies (README, "Layout"): commands/ and src/http/ -> domain modules
// (push, exports, diagnosis, schedules, files, notify) -> src/jobs/, src/db/ -> src/lib/. Checked in CI.
const DOMAIN = '^src/(push|exports|diagnosis|schedules|files|notify)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle makes a module impossible to understand (or test) alone. src/deps.ts is the Deps type every entry ' +
        'passes down: cycles through it are type-only (the swc parser cannot tell type imports apart).',
      from: {},
      to: { circular: true, viaNot: '^src/deps\\.ts$' },
    },
    {
      name: 'lib-is-a-leaf',
      severity: 'error',
      comment: 'src/lib holds small pure helpers every layer may use; it uses nothing of ours.',
      from: { path: '^src/lib/' },
      to: { path: '^(src|commands|tools)/', pathNot: '^src/lib/' },
    },
    {
      name: 'metrics-is-a-leaf',
      severity: 'error',
      comment: 'Metrics are used by jobs, push and http alike; they depend on nothing but lib.',
      from: { path: '^src/metrics/' },
      to: { path: '^(src|commands|tools)/', pathNot: '^src/(metrics|lib)/' },
    },
    {
      name: 'db-and-i18n-below-everything',
      severity: 'error',
      from: { path: '^src/(db|i18n)/' },
      to: { path: '^(src|commands|tools)/', pathNot: '^src/(db|i18n|lib)/' },
    },
    {
      name: 'jobs-knows-no-domain',
      severity: 'error',
      comment: 'The job loop runs whatever handlers it is given (src/handlers.ts assembles them).',
      from: { path: '^src/jobs/' },
      to: { path: ['^src/(chat|http|push|exports|diagnosis|schedules|files|notify)/', '^commands/', '^src/(server|app|bootstrap|handlers|main|cli)\\.ts$'] },
    },
    {
      name: 'domain-never-imports-transports',
      severity: 'error',
      comment: 'Domain modules talk back through the job reply target, never through chat/ or http/.',
      from: { path: DOMAIN },
      to: { path: ['^src/(chat|http)/', '^commands/', '^src/(server|app|bootstrap|main|cli)\\.ts$'] },
    },
    {
      name: 'commands-not-http',
      severity: 'error',
      from: { path: '^commands/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'product-never-imports-tools',
      severity: 'error',
      comment: 'tools/ holds development clients (npm run chat); production code does not use them.',
      from: { path: '^(src|commands)/' },
      to: { path: '^tools/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};

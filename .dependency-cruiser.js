/**
 * Import boundaries (`npm run boundaries`, part of `npm test`). Requests flow one way:
 *
 *   graphql -> services -> query (plan, guards, compiler, engine contract) <- engines
 *
 * src/domain depends on nothing of the project outside itself; web/ (browser code) and src/
 * (service) never import each other (src/web serves the built bundles and builds them with esbuild
 * from file paths, not imports).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-stands-alone',
      comment: 'src/domain is plain types and rules: it imports nothing of the project outside src/domain.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src|web|test|bench)/', pathNot: '^src/domain/' },
    },
    {
      name: 'query-knows-no-engine',
      comment: 'src/query holds the plan, guards, compiler and the engine contract; engines implement it, the query layer never imports one.',
      severity: 'error',
      from: { path: '^src/query/', pathNot: '^src/query/sql-cli\\.ts$' },
      to: { path: '^src/(engines|services|graphql|app\\.ts|main\\.ts|web|export|history|insights)' },
    },
    {
      name: 'engines-below-services',
      comment: 'engines (dialect, driver, DuckDB store and compaction) implement the query contract; they never reach up into services or GraphQL.',
      severity: 'error',
      from: { path: '^src/engines/' },
      to: { path: '^src/(services|graphql|app\\.ts|main\\.ts|web|export|insights)' },
    },
    {
      name: 'services-below-graphql',
      comment: 'services own scope and loaders; GraphQL resolvers call them, never the reverse.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: '^src/(graphql|app\\.ts|main\\.ts)' },
    },
    {
      name: 'trail-is-engine-free',
      comment: 'src/trail is the S3 layout and the sample trail; engine work on it (DuckDB compaction) lives in src/engines/duckdb.',
      severity: 'error',
      from: { path: '^src/trail/' },
      to: { path: '^src/(engines|query|services|graphql)/' },
    },
    {
      name: 'service-not-browser',
      comment: 'the service does not import browser code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'browser-not-service',
      comment: 'browser code does not import the service.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/' },
    },
    {
      name: 'not-to-tests',
      comment: 'shipped code never imports test helpers.',
      severity: 'error',
      from: { path: '^(src|web)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};

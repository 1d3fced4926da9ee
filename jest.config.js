/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The live Athena test (costs a query, needs AWS credentials) runs only when asked for.
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.TRAILQL_LIVE_ATHENA === '1' ? [] : ['/test/athena-live\\.test\\.ts$'])],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
};

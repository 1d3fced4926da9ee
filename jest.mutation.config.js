/**
 * The fast tests of the guard code only (no server, no engine), for `npm run mutation`: Stryker
 * runs them once per mutant.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: ['**/security-auth.test.ts', '**/security-guards.test.ts', '**/security-limits.test.ts', '**/security-filter-units.test.ts', '**/limits-memo.test.ts', '**/security-tokens.test.ts', '**/security-plugins.test.ts'], maxWorkers: 1 };

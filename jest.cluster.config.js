/**
 * `npm run test:cluster`: the end-to-end test against `npm run cluster` (real Temporal server, two workers,
 * two APIs), and mTLS against the real server with client certificates required. Separate from `npm test`: it
 * needs the Go-built server and starts its own processes.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.e2e.ts'],
  testTimeout: 180000,
};

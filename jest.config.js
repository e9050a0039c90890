// Unit tests sit beside their modules (src/.../x.test.ts); end-to-end tests drive a real server (test/e2e/x.e2e.test.ts).
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The scale-out suite needs PostgreSQL and Redis: it runs with `npm run test:scale`, not in the dependency-free default.
  // Tests that measure latency run alone afterwards (`npm run test:timing`), never beside other suites.
  testPathIgnorePatterns: [
    '/node_modules/',
    ...(process.env.TEST_DB === 'postgres' ? [] : ['scale\\.e2e\\.test\\.ts$']),
    ...(process.env.TEST_TIMING === '1' ? [] : ['fair-share\\.e2e\\.test\\.ts$']),
  ],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
};

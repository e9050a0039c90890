// Unit tests sit beside their modules (src/.../x.test.ts); end-to-end tests drive a real server (test/e2e/x.e2e.test.ts).
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The scale-out suite needs PostgreSQL and Redis: it runs with `npm run test:scale`, not in the dependency-free default.
  testPathIgnorePatterns: process.env.TEST_DB === 'postgres' ? ['/node_modules/'] : ['/node_modules/', 'scale\\.e2e\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
};

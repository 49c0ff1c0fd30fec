/**
 * Four projects: unit (pure rules, parallel), workflows (Temporal test environments),
 * integration (real PostgreSQL, Redis, Temporal dev server, simulator and API over HTTP) and e2e
 * (the built web app in Chromium against all of that; `npm run build:ui` first).
 * test/support/global-setup.ts creates a fresh database per run and starts the Temporal dev
 * server; everything is stopped in global-teardown.ts.
 */
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022', transform: { react: { runtime: 'automatic' } } }, module: { type: 'commonjs' } }],
};

const common = {
  transform,
  testEnvironment: 'node',
  // The generated Prisma client imports './x.js' from TypeScript sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/support/load-env.ts'],
  // meilisearch ships ES modules only; let SWC turn them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!meilisearch/)'],
};

module.exports = {
  transform,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'workflows', testMatch: ['<rootDir>/test/workflows/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // The built web app in Chromium against the whole back end (test/e2e/browser.ts); needs `npm run build:ui`.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};

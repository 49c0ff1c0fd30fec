import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyMigrations } from '../../src/db/migrate';
import { startDevServer } from '../../src/temporal/dev-server';
import { buildWorkflowBundle } from '../../src/temporal/worker';
import { TEST_ENV_FILE, WORKFLOW_BUNDLE_FILE } from './paths';

/**
 * One fresh PostgreSQL database and one in-memory Temporal dev server per test run, on free
 * ports; the time-skipping test server is started by the workflow tests themselves.
 */
export default async function globalSetup(): Promise<void> {
  const base = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432';
  const databaseUrl = `${base}/simgate_test_${Date.now()}_${process.pid}`;
  const [bundle] = await Promise.all([buildWorkflowBundle(), applyMigrations(databaseUrl)]);
  mkdirSync(path.dirname(WORKFLOW_BUNDLE_FILE), { recursive: true });
  writeFileSync(WORKFLOW_BUNDLE_FILE, bundle.code);
  const temporal = await startDevServer({ headless: true, fast: true });
  (globalThis as Record<string, unknown>).__SIMGATE_TEMPORAL__ = temporal;
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    TEMPORAL_ADDRESS: temporal.address,
  };
  mkdirSync(path.dirname(TEST_ENV_FILE), { recursive: true });
  writeFileSync(TEST_ENV_FILE, JSON.stringify(env, null, 2));
  Object.assign(process.env, env);
}

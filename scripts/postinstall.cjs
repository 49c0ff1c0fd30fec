#!/usr/bin/env node
/**
 * Runs after `npm install` / `npm ci`: generates the Prisma client offline and installs the
 * Temporal binaries. Prisma's CLI would download its schema engine, which `generate` does not
 * need, so it is pointed at a stub.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
execFileSync(process.execPath, [path.join(root, 'node_modules/prisma/build/index.js'), 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
});
require('./setup-temporal.cjs').setupTemporal();

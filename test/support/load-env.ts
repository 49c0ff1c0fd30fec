import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Test files see the database and Temporal server that global-setup.ts started for this run.
const file = path.resolve(__dirname, '../../.tmp/test-env.json');
if (existsSync(file)) Object.assign(process.env, JSON.parse(readFileSync(file, 'utf8')));

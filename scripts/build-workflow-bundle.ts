import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildWorkflowBundle } from '../src/temporal/worker';

// Production workers load this prebuilt bundle (src/bin/worker.ts) instead of bundling at start.
const out = path.resolve(__dirname, '../dist/workflow-bundle.js');
buildWorkflowBundle().then(
  (bundle) => {
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, bundle.code);
    console.log(`workflow bundle written to ${out} (${Math.round(bundle.code.length / 1024)} KiB)`);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

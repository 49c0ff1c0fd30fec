import path from 'node:path';

export const TMP_DIR = path.resolve(__dirname, '../../.tmp');
export const TEST_ENV_FILE = path.join(TMP_DIR, 'test-env.json');
/** Built once per run by global-setup.ts; also proves the workflows bundle (no Node imports). */
export const WORKFLOW_BUNDLE_FILE = path.join(TMP_DIR, 'workflow-bundle.js');

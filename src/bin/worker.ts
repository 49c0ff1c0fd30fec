import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/app.config';
import { createContainer } from '../container';
import { startActivationWorker, startBackgroundWork } from '../runtime';
import { runMain } from './main';

/** Production workers load the prebuilt bundle (`npm run build:workflows`); development bundles at start. */
const PREBUILT = path.resolve(__dirname, '../../dist/workflow-bundle.js');

runMain(async () => {
  const config = loadConfig();
  const container = await createContainer(config);
  const bundle = config.env.WORKFLOW_BUNDLE ?? (existsSync(PREBUILT) ? PREBUILT : undefined);
  const metrics = { host: config.env.HOST, port: config.env.WORKER_METRICS_PORT };
  const worker = await startActivationWorker(container, bundle ? { workflowBundle: { codePath: bundle }, metrics } : { metrics });
  await startBackgroundWork(container);
  container.logger.info({ taskQueue: config.env.TEMPORAL_TASK_QUEUE, metrics: worker.metrics?.url }, 'worker running');
  return async () => {
    await worker.shutdown();
    await container.close();
  };
});

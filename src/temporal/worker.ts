import path from 'node:path';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { createActivities, type ActivityDeps } from '../../activities';
import type { WorkerTuning } from '../config/app.config';
import type { Logger } from '../lib/logger';
import { activityLogInterceptors } from './request-id';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows/index.ts');
/** Request ids into workflow log lines and on to activities (workflows/interceptors.ts). */
export const WORKFLOW_INTERCEPTORS_PATH = path.resolve(__dirname, '../../workflows/interceptors.ts');

/** Bundles the workflow code once (webpack); a bad import in workflows/ fails here, not in production. */
export async function buildWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH], logger: quietBundlerLogger });
}

const noop = () => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop } as never;

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The SDK's logger as pino lines: lines about a workflow or an activity (workflow code's and
 * activities' log calls, the worker's "Activity started/completed") arrive with the workflow id,
 * type, run id and (interceptors) request id as attributes and pass at any level; the SDK's other
 * worker and core lines, which report every state change at INFO, only from WARN up.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    const aboutWork = meta.sdkComponent === 'workflow' || meta.sdkComponent === 'activity' || typeof meta.workflowId === 'string';
    if (!aboutWork && (level === 'TRACE' || level === 'DEBUG' || level === 'INFO')) return;
    // An activity's task token completes or fails it for anyone who can reach Temporal: a credential, not for logs.
    const { taskToken: _taskToken, ...fields } = meta;
    this.logger[PINO_LEVEL[level] ?? 'info'](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface RuntimeOptions {
  logger: Logger;
  /** Where the SDK's own Prometheus exporter listens (`127.0.0.1:9465`); none when absent. */
  sdkMetricsAddress?: string;
}

/**
 * The SDK runtime is one per process and configured once, before the first worker or native
 * connection: the logger (pino), core's logs forwarded to it from WARN up, and the SDK's metrics
 * (task slots, poll latencies, workflow and activity counters) on a Prometheus endpoint the
 * worker's /metrics includes. False when another runtime was already installed (a test process
 * or a second worker in this process): that one stays.
 */
export function installRuntime(options: RuntimeOptions): boolean {
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(options.logger),
      telemetryOptions: {
        logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }) },
        ...(options.sdkMetricsAddress ? { metrics: { prometheus: { bindAddress: options.sdkMetricsAddress, useSecondsForDurations: true } } } : {}),
      },
    });
    return true;
  } catch {
    return false;
  }
}

export interface WorkerHandle {
  worker: Worker;
  run: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: {
  address: string;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
  connection?: NativeConnection;
  /** Installs the process's SDK runtime if none is yet (installRuntime). */
  runtime?: RuntimeOptions;
  /** Slots, cache and threads (config WORKER_*); the SDK's defaults where absent. */
  tuning?: WorkerTuning;
}): Promise<WorkerHandle> {
  if (options.runtime) installRuntime(options.runtime);
  const connection = options.connection ?? (await NativeConnection.connect({ address: options.address }));
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    // Prebuilt bundles have the workflow interceptors built in (buildWorkflowBundle).
    interceptors: { activity: [activityLogInterceptors], ...(options.workflowBundle ? {} : { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] }) },
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.tuning,
  });
  const run = worker.run();
  return {
    worker,
    run,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
      if (!options.connection) await connection.close();
    },
  };
}

/**
 * The floor SimGate's purchase is measured against (issue 11): update-with-start of a trivial
 * workflow (bench/floor/workflows.ts) on the same Temporal dev server, with a worker of its own
 * in this process, at the purchase levels' concurrencies, just before them. Printed next to
 * SimGate's figures as ratios, so a noisy machine moves both and a regression still shows.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { ResourceMeter, ResourceUse } from './resources';
import { pool, round, summarize, type Summary } from './stats';
import { readyUpdate } from './floor/workflows';

export interface FloorLevel {
  concurrency: number;
  runs: number;
  perSecond: number;
  latencyMs: Summary;
  resources: ResourceUse;
  /** CPU of this process + Temporal + PostgreSQL per run (PostgreSQL is idle here: no SimGate). */
  cpuMsPerRun: number;
}

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop } as never;

/** CPU-milliseconds per operation, all measured processes, from a phase's resource use. */
export function cpuMsPer(resources: ResourceUse, wallSeconds: number, operations: number): number {
  const pct = resources.nodeCpuPct + resources.workerProcessesCpuPct + resources.temporalCpuPct + (Number.isFinite(resources.postgresCpuPct) ? resources.postgresCpuPct : 0);
  return operations > 0 ? round(((pct / 100) * wallSeconds * 1000) / operations, 1) : Number.NaN;
}

export async function measureFloor(options: {
  address: string;
  client: Client;
  meter: ResourceMeter;
  levels: readonly { concurrency: number; purchases: number }[];
  progress: (message: string) => void;
}): Promise<FloorLevel[]> {
  const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, 'floor/workflows.ts'), logger: quiet });
  const connection = await NativeConnection.connect({ address: options.address });
  const taskQueue = `simgate-bench-floor-${randomUUID()}`;
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: { code } });
  const running = worker.run();
  const once = async () => {
    const started = performance.now();
    const startWorkflowOperation = new WithStartWorkflowOperation('floorWorkflow', {
      workflowId: `floor-${randomUUID()}`,
      taskQueue,
      args: [],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    await options.client.workflow.executeUpdateWithStart(readyUpdate, { startWorkflowOperation });
    return performance.now() - started;
  };
  try {
    await pool(20, 5, async () => void (await once())); // warm-up
    const results: FloorLevel[] = [];
    for (const level of options.levels) {
      const latencies: number[] = [];
      const before = await options.meter.snapshot();
      const started = performance.now();
      await pool(level.purchases, level.concurrency, async () => {
        latencies.push(await once());
      });
      const wallSeconds = (performance.now() - started) / 1000;
      const resources = await options.meter.since(before);
      results.push({
        concurrency: level.concurrency,
        runs: latencies.length,
        perSecond: round(latencies.length / wallSeconds, 1),
        latencyMs: summarize(latencies),
        resources,
        cpuMsPerRun: cpuMsPer(resources, wallSeconds, latencies.length),
      });
      options.progress(`  floor c${level.concurrency}: ${round(latencies.length / wallSeconds, 1)}/s, p50 ${summarize(latencies).p50} ms`);
    }
    return results;
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

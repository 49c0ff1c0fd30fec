/**
 * The Temporal side of the workflow tests, set up once: a server (the time-skipping test server
 * or the run's dev server), a worker with the run's workflow bundle and a scenario's real
 * activities on a task queue of its own, and teardown. A test file says which server it needs
 * and then only what is particular to it:
 *
 *   const wf = useWorkflowTests('time-skipping');
 *
 *   it('…', async () => {
 *     const s = await wf.scenario({ providers: { hero: { minCancelSeconds: 120 } } });
 *     const { userId, input, run } = await wf.activation(s, 'wf-cancel');
 *     const final = await run(async (handle) => {
 *       await untilActive(wf.infra, handle);
 *       await handle.cancel();
 *       return handle.result();
 *     });
 *     expectReleased(await moneyOf(wf.infra, userId, input.activationId), SELL_MICROS.hero);
 *   });
 *
 * `wf.worker(s, label)` gives a bare worker and task queue for tests that start their own
 * workflows (the inbox poller, catalog sync, the race's rounds).
 *
 * record-histories.ts, which runs outside Jest on a dev server of its own, uses the same
 * connectTemporal and prepareActivation.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporalTestServerPath } from '../../src/temporal/binaries';
import { purchase } from '../../workflows/activation';
import { searchAttributes, type ActivationInput } from '../../workflows/contracts';
import { WORKFLOW_BUNDLE_FILE } from '../support/paths';
import { activationInput, closeAll, newCustomer, openInfra, quietTemporalRuntime, startScenario, type Infra, type Scenario, type ScenarioOptions } from './support';

const uniqueTaskQueue = (label: string) => `wf-test-${label}-${randomUUID()}`;

/** A Temporal server the tests talk to: its client, and workers on fresh task queues. */
export interface TemporalServer {
  client: Client;
  /** A worker with the workflow bundle and `activities` (a scenario's, or test doubles), on a task queue of its own. */
  worker(activities: object, label: string): Promise<{ worker: Worker; taskQueue: string }>;
  close(): Promise<void>;
}

function serverOn(client: Client, connection: NativeConnection, bundlePath: string, close: () => Promise<void>): TemporalServer {
  return {
    client,
    async worker(activities, label) {
      const taskQueue = uniqueTaskQueue(label);
      const worker = await Worker.create({ connection, namespace: 'default', taskQueue, workflowBundle: { codePath: bundlePath }, activities });
      return { worker, taskQueue };
    },
    close,
  };
}

/** A running dev server (the run's, from test/support/global-setup.ts, or one of record-histories.ts): updates, real time. */
export async function connectTemporal(address: string, bundlePath = WORKFLOW_BUNDLE_FILE): Promise<TemporalServer> {
  quietTemporalRuntime();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return serverOn(new Client({ connection, namespace: 'default' }), nativeConnection, bundlePath, async () => {
    await nativeConnection.close();
    await connection.close();
  });
}

/**
 * A time-skipping test server of this file's own, with SimGate's search attributes registered
 * (the workflow upserts them; unregistered ones fail its workflow tasks).
 */
async function startTimeSkipping(): Promise<TemporalServer & { env: TestWorkflowEnvironment }> {
  quietTemporalRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath() } } });
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, key.type === 'DATETIME' ? 6 /* DATETIME */ : 2 /* KEYWORD */])),
    });
  } catch (error) {
    // Not yet handed to the caller's teardown: stop it here, or Jest never exits.
    await env.teardown();
    throw error;
  }
  return { ...serverOn(env.client, env.nativeConnection, WORKFLOW_BUNDLE_FILE, () => env.teardown()), env };
}

/**
 * The activities' clock for a time-skipping server: the server's time moves ahead of the wall
 * clock with every skip, and `buyNumber` dates the purchase (expiry, cancel window) with its own
 * clock, which the workflow then compares with workflow time.
 */
function serverClock() {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    async sync(env: TestWorkflowEnvironment) {
      offsetMs = (await env.currentTimeMs()) - Date.now();
    },
  };
}

export interface PreparedActivation {
  userId: string;
  input: ActivationInput;
  /** Starts the activation workflow and runs `body` on its handle while the worker serves it. */
  run<T>(body: (handle: WorkflowHandle<typeof purchase>) => Promise<T>): Promise<T>;
}

export interface ActivationOptions {
  /** Overrides of the workflow input (ceiling, polling …). */
  input?: Partial<ActivationInput>;
  /** The new customer's wallet, in micro-dollars (default $10). */
  credit?: bigint;
}

/** A new customer, their activation's input and a worker on a task queue of its own, ready to run. */
export async function prepareActivation(temporal: TemporalServer, infra: Infra, scenario: Scenario, label: string, options: ActivationOptions = {}): Promise<PreparedActivation> {
  const userId = await newCustomer(infra, options.credit);
  const input = activationInput(userId, options.input);
  const { worker, taskQueue } = await temporal.worker(scenario.activities, label);
  return {
    userId,
    input,
    run: (body) =>
      worker.runUntil(async () => body(await temporal.client.workflow.start(purchase, { args: [input], workflowId: input.activationId, taskQueue }))),
  };
}

export interface WorkflowTests {
  readonly infra: Infra;
  readonly client: Client;
  /** A fresh scenario (simulator and providers), closed after the test; its activities have this server's client and, time-skipping, its clock. */
  scenario(options?: ScenarioOptions): Promise<Scenario>;
  worker(scenario: Scenario, label: string): Promise<{ worker: Worker; taskQueue: string }>;
  /** A worker with these activities only (no simulator): workflows that touch no provider, like webhook delivery. */
  activityWorker(activities: object, label: string): Promise<{ worker: Worker; taskQueue: string }>;
  /** prepareActivation on this file's server; a workflow still running after the test is terminated, so that none outlives its worker. */
  activation(scenario: Scenario, label: string, options?: ActivationOptions): Promise<PreparedActivation>;
  /** A clean-up step for the current test, run after it; last registered runs first, so a workflow ends before the simulator it talks to closes. */
  afterTest(step: () => Promise<unknown>): void;
}

/**
 * Registers this file's hooks: the server and the infrastructure (database, Redis, wallet,
 * catalog) before all tests, the time-skipping clock synced before each, the test's clean-up
 * steps after each, everything closed after all.
 */
export function useWorkflowTests(server: 'time-skipping'): WorkflowTests & { readonly env: TestWorkflowEnvironment };
export function useWorkflowTests(server: 'dev-server'): WorkflowTests;
export function useWorkflowTests(server: 'time-skipping' | 'dev-server'): WorkflowTests & { readonly env?: TestWorkflowEnvironment } {
  let temporal: TemporalServer;
  let env: TestWorkflowEnvironment | undefined;
  let infra: Infra;
  let steps: (() => Promise<unknown>)[] = [];
  const clock = serverClock();

  beforeAll(async () => {
    // One after the other: if the second fails, afterAll still closes the first.
    if (server === 'time-skipping') {
      const timeSkipping = await startTimeSkipping();
      temporal = timeSkipping;
      env = timeSkipping.env;
    } else {
      temporal = await connectTemporal(process.env.TEMPORAL_ADDRESS!);
    }
    infra = await openInfra();
  });
  afterAll(async () => {
    await closeAll(
      () => infra?.close(),
      () => temporal?.close(),
    );
  });
  beforeEach(async () => {
    if (env) await clock.sync(env);
  });
  afterEach(async () => {
    const due = steps.reverse();
    steps = [];
    await closeAll(...due);
  });

  const afterTest = (step: () => Promise<unknown>) => {
    steps.push(step);
  };

  return {
    get infra() {
      return infra;
    },
    get client() {
      return temporal.client;
    },
    get env() {
      return env;
    },
    async scenario(options = {}) {
      const scenario = await startScenario(infra, { now: env && clock.now, temporal: temporal.client, ...options });
      afterTest(() => scenario.close());
      return scenario;
    },
    worker: (scenario, label) => temporal.worker(scenario.activities, label),
    activityWorker: (activities, label) => temporal.worker(activities, label),
    async activation(scenario, label, options) {
      const prepared = await prepareActivation(temporal, infra, scenario, label, options);
      return {
        ...prepared,
        run: (body) =>
          prepared.run((handle) => {
            afterTest(async () => {
              if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over');
            });
            return body(handle);
          }),
      };
    },
    afterTest,
  };
}

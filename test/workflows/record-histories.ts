/**
 * Records real activation histories for the replay test (test/workflows/replay.test.ts):
 *
 *   npx tsx test/workflows/record-histories.ts [prefix]
 *
 * With a prefix (`activation-`), each history is written as <prefix><name>.json beside the
 * others and added to index.json: how the histories of a new workflow type join the old ones'.
 *
 * Starts its own Temporal dev server (startDevServer) and a fresh, migrated PostgreSQL database
 * (dropped at the end), uses the local Redis, bundles the current workflows/ and runs each
 * scenario below, one after the other (each takes the other providers' offers off sale), end to
 * end against the provider simulator — the same real activities as the tests. Each history is
 * written as proto3 JSON (what the CLI and the Web UI export; see history-json.ts) to
 * test/fixtures/histories/<name>.json, and index.json says what each one shows.
 *
 * Re-record only on purpose: the fixtures stand for workflows that may still be running in
 * production when new workflow code is deployed. Add a scenario rather than replacing one.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { applyMigrations, dropDatabase } from '../../src/db/migrate';
import { startDevServer } from '../../src/temporal/dev-server';
import { buildWorkflowBundle } from '../../src/temporal/worker';
import {
  cancelActivationUpdate,
  finishActivationUpdate,
  requestAnotherSmsUpdate,
  smsReceivedSignal,
  type ActivationInput,
  type ActivationView,
} from '../../workflows/contracts';
import { TMP_DIR } from '../support/paths';
import { connectTemporal, prepareActivation, type TemporalServer } from './harness';
import { HISTORIES_DIR, historyToJson } from './history-json';
import { openInfra, quietTemporalRuntime, sms, startScenario, untilActive, waitFor, waitForView, type Infra, type Scenario, type ScenarioOptions } from './support';

const FAST = { initialMs: 200, maxMs: 1000 };
const SHORT = { lifetimeSeconds: 10, minCancelSeconds: 0 };

interface Context {
  infra: Infra;
  temporal: TemporalServer;
}

interface Recording {
  name: string;
  /** What the history shows; written next to it for the reader of a failing replay. */
  description: string;
  expectStatus: ActivationView['status'];
  options?: ScenarioOptions;
  input?: Partial<ActivationInput>;
  /** Provider-side preparation after the catalog sync. */
  prepare?: (s: Scenario) => Promise<void>;
  /** Drives the running activation (already ACTIVE unless `waitActive` is false). */
  drive: (ctx: { handle: WorkflowHandle; s: Scenario; upstreamId: string | null; activationId: string }) => Promise<void>;
  waitActive?: boolean;
}

const RECORDINGS: Recording[] = [
  {
    name: 'completed',
    description: 'SMS found by the fallback poll, captured; another SMS requested (update) and polled; finished by the customer (update) → COMPLETED',
    expectStatus: 'COMPLETED',
    drive: async ({ handle, s, upstreamId }) => {
      await s.deliverSms('hero', upstreamId!, '424242');
      await waitForView(handle, (v) => v.messages.length === 1 && v.actions.retry);
      await handle.executeUpdate(requestAnotherSmsUpdate);
      await s.deliverSms('hero', upstreamId!, '434343');
      await waitForView(handle, (v) => v.messages.length === 2 && v.actions.finish);
      await handle.executeUpdate(finishActivationUpdate);
    },
  },
  {
    name: 'expired',
    description: 'no SMS within the 10-second lifetime: polls, then cancelled at the provider and released → EXPIRED',
    expectStatus: 'EXPIRED',
    drive: async () => undefined,
  },
  {
    name: 'cancelled',
    description: 'cancelled by the customer (update) before any SMS: cancelled at the provider, released → CANCELLED',
    expectStatus: 'CANCELLED',
    drive: async ({ handle }) => {
      await handle.executeUpdate(cancelActivationUpdate);
    },
  },
  {
    name: 'failed-over',
    description: 'cheapest provider out of numbers, the next one sells (ceiling $1); SMS by webhook signal, captured; finished → COMPLETED',
    expectStatus: 'COMPLETED',
    input: { maxPriceMicros: '1000000' },
    prepare: (s) => s.setOffer('hero', { stock: 0 }),
    drive: async ({ handle, s, upstreamId }) => {
      await s.deliverSms('activate', upstreamId!, '515151');
      await handle.signal(smsReceivedSignal, sms('515151'));
      await waitForView(handle, (v) => v.messages.length === 1 && v.actions.finish);
      await handle.executeUpdate(finishActivationUpdate);
    },
  },
  {
    name: 'failed',
    description: 'no provider has numbers: both purchases refused, released → FAILED (NO_NUMBERS)',
    expectStatus: 'FAILED',
    input: { maxPriceMicros: '1000000' },
    prepare: async (s) => {
      await s.setOffer('hero', { stock: 0 });
      await s.setOffer('activate', { stock: 0 });
    },
    waitActive: false,
    drive: async () => undefined,
  },
  {
    name: 'operator-cancelled',
    description: 'workflow cancelled (Web UI / admin) before any SMS: the compensation cancels upstream and releases → CANCELLED',
    expectStatus: 'CANCELLED',
    drive: async ({ handle }) => {
      await handle.cancel();
    },
  },
];

async function record(ctx: Context, recording: Recording, prefix: string): Promise<string> {
  const s = await startScenario(ctx.infra, { ...recording.options, providers: { hero: SHORT, activate: SHORT, ...recording.options?.providers } });
  try {
    await recording.prepare?.(s);
    const { input, run } = await prepareActivation(ctx.temporal, ctx.infra, s, `record-${recording.name}`, { input: { polling: FAST, ...recording.input } });
    const final = await run(async (handle) => {
      let upstreamId: string | null = null;
      if (recording.waitActive !== false) {
        ({ upstreamId } = await untilActive(ctx.infra, handle));
      }
      await recording.drive({ handle, s, upstreamId, activationId: input.activationId });
      // A workflow cancelled by an operator ends Canceled once refunded: its outcome is in the row.
      const result = await (handle.result() as Promise<ActivationView>).catch(async (error: unknown) => {
        if (!(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure)) throw error;
        const row = await ctx.infra.db.activation.findUniqueOrThrow({ where: { id: input.activationId } });
        return { status: row.status, failureReason: row.failureReason } as ActivationView;
      });
      // Let the history settle (the final workflow task is recorded by then).
      await waitFor(async () => (await handle.describe()).status.name !== 'RUNNING');
      writeFileSync(path.join(HISTORIES_DIR, `${prefix}${recording.name}.json`), historyToJson(await handle.fetchHistory()));
      return result;
    });
    if (final.status !== recording.expectStatus) throw new Error(`${recording.name}: ended ${final.status}, expected ${recording.expectStatus}`);
    return `${prefix}${recording.name}: ${final.status}${final.failureReason ? ` (${final.failureReason})` : ''} — ${recording.description}`;
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  quietTemporalRuntime();
  const base = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432';
  const databaseUrl = `${base}/simgate_record_${Date.now()}_${process.pid}`;
  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  mkdirSync(TMP_DIR, { recursive: true });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const bundlePath = path.join(TMP_DIR, `record-histories-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, (await buildWorkflowBundle()).code);

  // Whatever fails, everything started so far is stopped: a leaked dev server or database outlives this script.
  const cleanup: (() => Promise<unknown>)[] = [async () => rmSync(bundlePath, { force: true })];
  try {
    const server = await startDevServer({ headless: true, fast: true });
    cleanup.unshift(() => server.stop());
    cleanup.unshift(() => dropDatabase(databaseUrl));
    await applyMigrations(databaseUrl);
    const infra = await openInfra();
    cleanup.unshift(() => infra.close());
    const temporal = await connectTemporal(server.address, bundlePath);
    cleanup.unshift(() => temporal.close());

    const ctx: Context = { infra, temporal };
    const lines: string[] = [];
    const prefix = process.argv[2] ?? '';
    for (const recording of RECORDINGS) lines.push(await record(ctx, recording, prefix));
    const indexFile = path.join(HISTORIES_DIR, 'index.json');
    const earlier = prefix ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
    const index = { ...earlier, ...Object.fromEntries(RECORDINGS.map((r) => [`${prefix}${r.name}`, r.description])) };
    writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);
    process.stdout.write(`recorded into ${path.relative(process.cwd(), HISTORIES_DIR)}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  } finally {
    // Reverse order of start: connections, Redis and Prisma, the database, the server, the bundle.
    for (const step of cleanup) await step().catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * `npx tsx bench/upstream-calls.ts`: upstream provider calls (simulator handler_api requests)
 * while 1,000 activations wait for an SMS that never comes, in two set-ups side by side:
 *
 *   A. per-activation polling only (the former defaults, 3 s doubling to 30 s, no inbox workflow);
 *   B. the production defaults: one provider inbox workflow per provider (ensureProviderInbox,
 *      every INBOX_INTERVAL_MS) and per-activation polling in its slow fallback role
 *      (POLL_INITIAL_MS → POLL_MAX_MS).
 *
 * Each set-up gets its own simulator (so B's getActiveActivations lists only B's numbers) and its
 * own stack (worker + API, own task queue) on a shared database and Temporal dev server. The
 * activation workflows are started directly with the Temporal client, as the API does, 25 at a
 * time; the window opens once all 1,000 are ACTIVE. Progress on stderr, figures on stdout.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ensureProviderInbox } from '../src/temporal/schedules';
import { ACTIVATION_WORKFLOW_TYPE, searchAttributes, type ActivationInput } from '../workflows/contracts';
import { ResourceMeter, type ResourceUse } from './resources';
import { pool, round, sleep, table } from './stats';
import {
  COUNTRY_ISO,
  PROVIDER_TENANT,
  SERVICE,
  TENANT_PROVIDER,
  createCustomers,
  startInfra,
  startSimulator,
  startStack,
  type BenchSimulator,
  type Infra,
  type UpstreamCall,
} from './system';

const ACTIVATIONS = Number(process.env.UPSTREAM_BENCH_ACTIVATIONS ?? 1000);
const WINDOW_MS = Number(process.env.UPSTREAM_BENCH_WINDOW_MS ?? 60_000);
const START_CONCURRENCY = 25;
const CUSTOMERS = 10;
const CREDIT_MICROS = 1_000_000_000n;
/** The configured default (INBOX_INTERVAL_MS), read when the set-up starts. */
let INBOX_INTERVAL_MS = 5000;
/** Simulator and SimGate lifetime: far beyond the run, so nothing expires during the window. */
const LIFETIME_MS = 60 * 60_000;
const ACTIVE_TIMEOUT_MS = 240_000;

const runStarted = performance.now();
const progress = (message: string) => process.stderr.write(`[upstream-calls +${((performance.now() - runStarted) / 1000).toFixed(1)}s] ${message}\n`);

interface SetupSpec {
  key: 'A' | 'B';
  label: string;
  /** null: the configured defaults. */
  polling: { initialMs: number; maxMs: number } | null;
  inbox: boolean;
}

export interface SetupResult {
  setup: string;
  activations: number;
  polling: { initialMs: number; maxMs: number };
  inboxIntervalMs: number | null;
  buySeconds: number;
  windowSeconds: number;
  calls: number;
  callsPerMinute: number;
  callsPerActivationMinute: number;
  byAction: Record<string, number>;
  byActionPerMinute: Record<string, number>;
  resources: ResourceUse & { rssMiB: number };
}

const SETUPS: SetupSpec[] = [
  { key: 'A', label: 'per-activation polling only', polling: { initialMs: 3000, maxMs: 30_000 }, inbox: false },
  { key: 'B', label: `defaults: inbox ${INBOX_INTERVAL_MS / 1000} s + fallback polling`, polling: null, inbox: true },
];

async function runSetup(infra: Infra, sim: BenchSimulator, spec: SetupSpec): Promise<SetupResult> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => progress(`stop failed: ${(error as Error).message}`));
  };
  try {
    const stack = await startStack({
      label: `upstream-${spec.key}`,
      infra,
      simulatorUrl: sim.url,
      webhookSecret: `bench-webhook-secret-${randomUUID()}`,
      adminEmail: `admin-${randomUUID()}@simgate.test`,
      provider: { lifetimeSeconds: LIFETIME_MS / 1000 },
      ...(spec.polling ? { polling: spec.polling } : {}),
      // The inbox pollers are started below, at this bench's interval, and ended with the set-up.
      inbox: false,
    });
    stops.push(() => stack.stop());
    const polling = { initialMs: stack.config.activation.pollInitialMs, maxMs: stack.config.activation.pollMaxMs };
    INBOX_INTERVAL_MS = stack.config.activation.inboxIntervalMs;
    const meter = await ResourceMeter.create({ temporalPid: infra.temporal.process.pid, databaseUrl: infra.databaseUrl });
    stops.push(() => meter.close());
    const client = stack.container.temporal.client;
    const taskQueue = stack.config.env.TEMPORAL_TASK_QUEUE;

    const inboxIds: string[] = [];
    if (spec.inbox) {
      for (const providerId of Object.values(TENANT_PROVIDER)) {
        inboxIds.push((await ensureProviderInbox(client, { providerId, taskQueue, intervalMs: INBOX_INTERVAL_MS })).workflowId);
      }
      stops.push(async () => {
        for (const id of inboxIds) await client.workflow.getHandle(id).terminate('bench cleanup').catch(() => undefined);
      });
    }

    progress(`${spec.key}: creating ${CUSTOMERS} customers`);
    const customers = await createCustomers(stack, CUSTOMERS, CREDIT_MICROS);

    const prefix = `act-ub${spec.key.toLowerCase()}-${randomUUID().slice(0, 8)}-`;
    const ids = Array.from({ length: ACTIVATIONS }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
    stops.push(async () => {
      progress(`${spec.key}: terminating ${ids.length} activation workflows and cancelling their numbers at the simulator`);
      await pool(ids.length, 50, async (i) => {
        await client.workflow.getHandle(ids[i]).terminate('bench cleanup').catch(() => undefined);
      });
      // The simulator is shared by both set-ups: the next one's inbox must list only its own numbers.
      const rows = await stack.container.db.activation.findMany({ where: { id: { startsWith: prefix } }, select: { providerId: true, upstreamId: true } });
      await pool(rows.length, 25, async (i) => {
        const { providerId, upstreamId } = rows[i];
        if (!providerId || !upstreamId) return;
        const tenant = PROVIDER_TENANT[providerId];
        await fetch(`${sim.url}/${tenant}/stubs/handler_api.php?api_key=sim-${tenant}-key&action=setStatus&status=8&id=${encodeURIComponent(upstreamId)}`)
          .then((r) => r.text())
          .catch(() => undefined);
      });
    });

    progress(`${spec.key}: starting ${ACTIVATIONS} activation workflows (${START_CONCURRENCY} at a time), polling ${polling.initialMs} → ${polling.maxMs} ms`);
    const buyStarted = performance.now();
    await pool(ids.length, START_CONCURRENCY, async (i) => {
      const customer = customers[i % customers.length];
      const input: ActivationInput = {
        activationId: ids[i],
        userId: customer.id,
        serviceCode: SERVICE,
        countryIso: COUNTRY_ISO,
        maxPriceMicros: null,
        polling,
      };
      await client.workflow.start(ACTIVATION_WORKFLOW_TYPE, {
        workflowId: ids[i],
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.status, value: 'RESERVED' },
          { key: searchAttributes.userId, value: customer.id },
          { key: searchAttributes.serviceCode, value: SERVICE },
          { key: searchAttributes.countryIso, value: COUNTRY_ISO },
        ]),
      });
    });
    progress(`${spec.key}: started in ${((performance.now() - buyStarted) / 1000).toFixed(1)} s; waiting for all to be ACTIVE`);

    const deadline = performance.now() + ACTIVE_TIMEOUT_MS;
    let lastReport = 0;
    let lastActive = 0;
    let lastProgressAt = performance.now();
    for (;;) {
      const groups = await stack.container.db.activation.groupBy({ by: ['status'], where: { id: { startsWith: prefix } }, _count: { _all: true } });
      const counts = Object.fromEntries(groups.map((g) => [g.status, g._count._all])) as Record<string, number>;
      const active = counts.ACTIVE ?? 0;
      const ended = (counts.FAILED ?? 0) + (counts.EXPIRED ?? 0) + (counts.CANCELLED ?? 0) + (counts.COMPLETED ?? 0);
      if (ended > 0) throw new Error(`${spec.key}: ${ended} activations ended before the window: ${JSON.stringify(counts)}`);
      if (active >= ACTIVATIONS) break;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`${spec.key}:   ${JSON.stringify(counts)}`);
      }
      if (active > lastActive) {
        lastActive = active;
        lastProgressAt = performance.now();
      } else if (performance.now() - lastProgressAt > 45_000) throw new Error(`${spec.key}: no progress for 45 s: ${JSON.stringify(counts)}`);
      if (performance.now() > deadline) throw new Error(`${spec.key}: only ${active}/${ACTIVATIONS} ACTIVE after ${ACTIVE_TIMEOUT_MS / 1000} s`);
      await sleep(500);
    }
    const buySeconds = (performance.now() - buyStarted) / 1000;
    progress(`${spec.key}: all ${ACTIVATIONS} ACTIVE after ${buySeconds.toFixed(1)} s; counting upstream calls for ${WINDOW_MS / 1000} s`);

    const snapshot = await meter.snapshot();
    const windowStart = performance.now();
    await sleep(WINDOW_MS);
    const windowEnd = performance.now();
    const resources = await meter.since(snapshot);
    const rssMiB = round(process.memoryUsage().rss / 2 ** 20, 0);

    const inWindow: UpstreamCall[] = sim.calls.filter((c) => c.at >= windowStart && c.at < windowEnd);
    const minutes = (windowEnd - windowStart) / 60_000;
    const byAction: Record<string, number> = {};
    for (const call of inWindow) byAction[call.action] = (byAction[call.action] ?? 0) + 1;
    const byActionPerMinute = Object.fromEntries(Object.entries(byAction).map(([k, v]) => [k, round(v / minutes, 1)]));
    progress(`${spec.key}: ${inWindow.length} calls in window ${JSON.stringify(byAction)}`);

    return {
      setup: `${spec.key}. ${spec.label}`,
      activations: ACTIVATIONS,
      polling,
      inboxIntervalMs: spec.inbox ? INBOX_INTERVAL_MS : null,
      buySeconds: round(buySeconds, 1),
      windowSeconds: round((windowEnd - windowStart) / 1000, 1),
      calls: inWindow.length,
      callsPerMinute: round(inWindow.length / minutes, 1),
      callsPerActivationMinute: round(inWindow.length / minutes / ACTIVATIONS, 4),
      byAction,
      byActionPerMinute,
      resources: { ...resources, rssMiB },
    };
  } finally {
    await stopAll();
  }
}

export function formatUpstreamCalls(results: SetupResult[]): string {
  const actions = [...new Set(['getStatus', 'getActiveActivations', ...results.flatMap((r) => Object.keys(r.byAction))])];
  const header = ['', ...results.map((r) => r.setup)];
  const rows: (string | number)[][] = [
    ['activations waiting for an SMS', ...results.map((r) => r.activations)],
    ['per-activation polling (ms)', ...results.map((r) => `${r.polling.initialMs} → ${r.polling.maxMs}`)],
    ['provider inbox interval (ms)', ...results.map((r) => (r.inboxIntervalMs === null ? 'off' : r.inboxIntervalMs))],
    ['window (s)', ...results.map((r) => r.windowSeconds)],
    ['upstream calls in window', ...results.map((r) => r.calls)],
    ['calls / minute', ...results.map((r) => r.callsPerMinute)],
    ['calls / activation / minute', ...results.map((r) => r.callsPerActivationMinute)],
    ...actions.map((action) => [`  ${action} (calls / minute)`, ...results.map((r) => `${r.byAction[action] ?? 0} (${r.byActionPerMinute[action] ?? 0})`)]),
    ['node CPU % (one core = 100)', ...results.map((r) => round(r.resources.nodeCpuPct, 0))],
    ['temporal CPU %', ...results.map((r) => round(r.resources.temporalCpuPct, 0))],
    ['postgres CPU %', ...results.map((r) => round(r.resources.postgresCpuPct, 0))],
    ['machine busy %', ...results.map((r) => round(r.resources.machineBusyPct, 0))],
    ['node RSS at window end (MiB)', ...results.map((r) => r.resources.rssMiB)],
    ['time to buy all (s)', ...results.map((r) => r.buySeconds)],
  ];
  const [a, b] = results;
  const ratio = a && b && b.calls > 0 ? `\nA/B upstream call ratio: ${round(a.calls / b.calls, 1)}×` : '';
  return `Upstream provider calls while ${ACTIVATIONS} activations wait for an SMS (${os.cpus().length} CPUs, node ${process.version})\n${table(header, rows)}${ratio}`;
}

export async function runUpstreamCallsBench(): Promise<SetupResult[]> {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  progress('starting PostgreSQL database, Temporal dev server, workflow bundle');
  const infra = await startInfra();
  let sim: BenchSimulator | null = null;
  try {
    // One simulator for both set-ups: its upstream ids keep counting, so they never collide in the shared database.
    sim = await startSimulator();
    for (const tenant of Object.keys(TENANT_PROVIDER)) await sim.control('PATCH', `/${tenant}/settings`, { lifetimeMs: LIFETIME_MS });
    const results: SetupResult[] = [];
    // UPSTREAM_BENCH_SETUPS=B runs only the defaults (the A set-up alone takes minutes on 2 cores).
    const only = process.env.UPSTREAM_BENCH_SETUPS?.split(',').map((k) => k.trim().toUpperCase());
    for (const spec of SETUPS.filter((s) => !only || only.includes(s.key))) results.push(await runSetup(infra, sim, spec));
    return results;
  } finally {
    progress('stopping simulator and infrastructure');
    if (sim) await sim.close().catch(() => undefined);
    await infra.stop();
  }
}

if (require.main === module) {
  runUpstreamCallsBench()
    .then((results) => {
      process.stdout.write(`${formatUpstreamCalls(results)}\n`);
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      process.exit(0);
    })
    .catch((error) => {
      progress(`failed: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    });
}

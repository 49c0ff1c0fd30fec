/**
 * `npx tsx bench/capacity.ts`: load and capacity, on one stack (worker + API in this process) with
 * the simulator, a fresh database and a Temporal dev server.
 *
 *   1. Load: CAPACITY_BUYERS (500) concurrent buyers POST /api/numbers for CAPACITY_LOAD_SECONDS
 *      (60) — purchases/s, latency p50/p95/p99, every answer by status; a 5xx fails the bench.
 *   2. Waiting: CAPACITY_WAITING (10,000) activations waiting for an SMS at once (started with the
 *      Temporal client, as the API does), the provider inboxes running, configured defaults
 *      otherwise; then for CAPACITY_WINDOW_SECONDS (60): process RSS, Temporal and PostgreSQL CPU,
 *      upstream calls per minute, and how long an SMS delivered at the provider takes to be
 *      visible through the API while all the others wait.
 *
 * Both counts are settings because a full run takes long on 2 cores; the figures say what ran.
 * Progress on stderr, figures on stdout.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { TypedSearchAttributes } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ensureProviderInbox } from '../src/temporal/schedules';
import { ACTIVATION_WORKFLOW_TYPE, providerInboxWorkflowId, searchAttributes, type ActivationInput } from '../workflows/contracts';
import { ResourceMeter } from './resources';
import { percentile, pool, round, sleep, table } from './stats';
import { COUNTRY_ISO, PROVIDER_TENANT, SERVICE, TENANT_PROVIDER, createCustomers, startInfra, startSimulator, startStack, type Stack } from './system';

const BUYERS = Number(process.env.CAPACITY_BUYERS ?? 500);
const LOAD_SECONDS = Number(process.env.CAPACITY_LOAD_SECONDS ?? 60);
const WAITING = Number(process.env.CAPACITY_WAITING ?? 10_000);
const WINDOW_SECONDS = Number(process.env.CAPACITY_WINDOW_SECONDS ?? 60);
const SMS_SAMPLES = 20;
/** An SMS not visible after this long counts as not delivered (and fails the bench). */
const SMS_GIVE_UP_MS = 60_000;
const CUSTOMERS = 20;
const CREDIT_MICROS = 10n ** 12n;
const LIFETIME_SECONDS = 3 * 3600;

const runStarted = performance.now();
const progress = (message: string) => process.stderr.write(`[capacity +${((performance.now() - runStarted) / 1000).toFixed(1)}s] ${message}\n`);

interface LoadResult {
  buyers: number;
  seconds: number;
  answers: Record<string, number>;
  purchases: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

async function load(stack: Stack, customers: { token: string }[]): Promise<LoadResult> {
  const answers: Record<string, number> = {};
  const latencies: number[] = [];
  const deadline = performance.now() + LOAD_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: BUYERS }, async (_, buyer) => {
      const customer = customers[buyer % customers.length];
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const reply = await stack
          .request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: { service: SERVICE, country: COUNTRY_ISO } })
          .catch((error: Error) => ({ status: 0, body: { error: { code: `NETWORK ${error.message}` } } }));
        const label = reply.status === 201 || reply.status === 200 ? String(reply.status) : `${reply.status} ${reply.body?.error?.code ?? ''}`.trim();
        answers[label] = (answers[label] ?? 0) + 1;
        if (reply.status === 201) latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const purchases = answers['201'] ?? 0;
  return {
    buyers: BUYERS,
    seconds: round(seconds, 1),
    answers,
    purchases,
    perSecond: round(purchases / seconds, 1),
    latencyMs: {
      p50: round(percentile(latencies, 50), 0),
      p95: round(percentile(latencies, 95), 0),
      p99: round(percentile(latencies, 99), 0),
      max: round(Math.max(0, ...latencies), 0),
    },
  };
}

interface WaitingResult {
  waiting: number;
  startSeconds: number;
  windowSeconds: number;
  callsPerMinute: number;
  callsPerActivationMinute: number;
  byAction: Record<string, number>;
  rssMiB: number;
  nodeCpuPct: number;
  temporalCpuPct: number;
  postgresCpuPct: number;
  smsVisibleMs: { p50: number; p95: number; max: number; samples: number };
  smsNotVisible: string[];
}

async function waiting(stack: Stack, sim: Awaited<ReturnType<typeof startSimulator>>, customers: { id: string; token: string }[], meter: ResourceMeter): Promise<WaitingResult> {
  const client = stack.container.temporal.client;
  const taskQueue = stack.config.env.TEMPORAL_TASK_QUEUE;
  const polling = stack.config.activation;
  // Shaped like the API's ids (act-<hex>), so the customers can read them back through the API.
  const prefix = `act-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const ids = Array.from({ length: WAITING }, (_, i) => `${prefix}${i.toString(16).padStart(8, '0')}`);
  const started = performance.now();
  progress(`starting ${WAITING} activation workflows (polling ${polling.pollInitialMs} → ${polling.pollMaxMs} ms, inbox every 5 s)`);
  await pool(ids.length, 25, async (i) => {
    const customer = customers[i % customers.length];
    const input: ActivationInput = { activationId: ids[i], userId: customer.id, serviceCode: SERVICE, countryIso: COUNTRY_ISO, maxPriceMicros: null, polling: { initialMs: polling.pollInitialMs, maxMs: polling.pollMaxMs } };
    await client.workflow.start(ACTIVATION_WORKFLOW_TYPE, {
      workflowId: ids[i],
      taskQueue,
      args: [input],
      typedSearchAttributes: new TypedSearchAttributes([
        { key: searchAttributes.status, value: 'RESERVED' },
        { key: searchAttributes.userId, value: customer.id },
        { key: searchAttributes.serviceCode, value: SERVICE },
        { key: searchAttributes.countryIso, value: COUNTRY_ISO },
      ]),
    });
  });
  for (;;) {
    const active = await stack.container.db.activation.count({ where: { id: { startsWith: prefix }, status: 'ACTIVE' } });
    if (active >= WAITING) break;
    progress(`  ${active}/${WAITING} ACTIVE`);
    await sleep(5000);
  }
  const startSeconds = (performance.now() - started) / 1000;
  progress(`all ${WAITING} waiting after ${startSeconds.toFixed(0)} s; measuring ${WINDOW_SECONDS} s`);

  const snapshot = await meter.snapshot();
  const windowStart = performance.now();
  // SMS for a few of them, spread over the window: how long until the customer sees each.
  const sampled = await stack.container.db.activation.findMany({ where: { id: { in: ids.slice(0, SMS_SAMPLES) } }, select: { id: true, userId: true, providerId: true, upstreamId: true } });
  const visible: number[] = [];
  const lost: string[] = [];
  const gap = (WINDOW_SECONDS * 1000 * 0.8) / Math.max(1, sampled.length);
  await Promise.all(
    sampled.map(async (row, i) => {
      await sleep(i * gap);
      const token = customers.find((c) => c.id === row.userId)!.token;
      const t0 = performance.now();
      await sim.control('POST', `/${PROVIDER_TENANT[row.providerId!]}/activations/${row.upstreamId}/sms`, { code: String(100000 + i) });
      while (performance.now() - t0 < SMS_GIVE_UP_MS) {
        const reply = await stack.request('GET', `/api/numbers/${row.id}`, { token });
        if (reply.body?.activation?.messages?.length > 0) {
          visible.push(performance.now() - t0);
          return;
        }
        await sleep(100);
      }
      lost.push(row.id);
    }),
  );
  const remaining = WINDOW_SECONDS * 1000 - (performance.now() - windowStart);
  if (remaining > 0) await sleep(remaining);
  const windowEnd = performance.now();
  const resources = await meter.since(snapshot);

  const inWindow = sim.calls.filter((c) => c.at >= windowStart && c.at < windowEnd);
  const minutes = (windowEnd - windowStart) / 60_000;
  const byAction: Record<string, number> = {};
  for (const call of inWindow) byAction[call.action] = (byAction[call.action] ?? 0) + 1;

  progress(`terminating ${ids.length} waiting workflows`);
  await pool(ids.length, 50, async (i) => {
    await client.workflow.getHandle(ids[i]).terminate('bench over').catch(() => undefined);
  });
  return {
    waiting: WAITING,
    startSeconds: round(startSeconds, 0),
    windowSeconds: round((windowEnd - windowStart) / 1000, 1),
    callsPerMinute: round(inWindow.length / minutes, 1),
    callsPerActivationMinute: round(inWindow.length / minutes / WAITING, 4),
    byAction,
    rssMiB: round(process.memoryUsage().rss / 2 ** 20, 0),
    nodeCpuPct: round(resources.nodeCpuPct, 0),
    temporalCpuPct: round(resources.temporalCpuPct, 0),
    postgresCpuPct: round(resources.postgresCpuPct, 0),
    smsVisibleMs: { p50: round(percentile(visible, 50), 0), p95: round(percentile(visible, 95), 0), max: round(Math.max(0, ...visible), 0), samples: visible.length },
    smsNotVisible: lost,
  };
}

export async function runCapacityBench(): Promise<{ load: LoadResult; waiting: WaitingResult }> {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  progress('starting PostgreSQL database, Temporal dev server, workflow bundle');
  const infra = await startInfra();
  const sim = await startSimulator();
  const stops: (() => Promise<void>)[] = [() => infra.stop(), () => sim.close()];
  try {
    for (const tenant of Object.keys(TENANT_PROVIDER)) await sim.control('PATCH', `/${tenant}/settings`, { lifetimeMs: LIFETIME_SECONDS * 1000 });
    const stack = await startStack({
      label: 'capacity',
      infra,
      simulatorUrl: sim.url,
      webhookSecret: `bench-webhook-secret-${randomUUID()}`,
      adminEmail: `admin-${randomUUID()}@simgate.test`,
      provider: { lifetimeSeconds: LIFETIME_SECONDS },
    });
    stops.unshift(() => stack.stop());
    const client = stack.container.temporal.client;
    for (const providerId of Object.values(TENANT_PROVIDER)) await ensureProviderInbox(client, { providerId, taskQueue: stack.config.env.TEMPORAL_TASK_QUEUE });
    stops.unshift(async () => {
      for (const providerId of Object.values(TENANT_PROVIDER)) await client.workflow.getHandle(providerInboxWorkflowId(providerId)).terminate('bench over').catch(() => undefined);
    });
    const meter = await ResourceMeter.create({ temporalPid: infra.temporal.process.pid, databaseUrl: infra.databaseUrl });
    stops.unshift(() => meter.close());

    progress(`creating ${CUSTOMERS} customers`);
    const customers = await createCustomers(stack, CUSTOMERS, CREDIT_MICROS);
    progress(`load: ${BUYERS} concurrent buyers for ${LOAD_SECONDS} s`);
    const loadResult = await load(stack, customers);
    progress(`load: ${JSON.stringify(loadResult.answers)}`);
    // The load's numbers would wait too: out of the way before the capacity window.
    const open = await stack.container.db.activation.findMany({ where: { status: { in: ['ACTIVE', 'RESERVED'] } }, select: { id: true } });
    await pool(open.length, 50, async (i) => {
      await client.workflow.getHandle(open[i].id).terminate('bench: load phase over').catch(() => undefined);
    });
    const waitingResult = await waiting(stack, sim, customers, meter);
    return { load: loadResult, waiting: waitingResult };
  } finally {
    for (const stop of stops) await stop().catch((error: Error) => progress(`stop failed: ${error.message}`));
  }
}

export function formatCapacity({ load: l, waiting: w }: { load: LoadResult; waiting: WaitingResult }): string {
  const fiveXx = Object.entries(l.answers).filter(([status]) => /^5|^0/.test(status)).reduce((sum, [, n]) => sum + n, 0);
  return [
    `Load and capacity (${os.cpus().length} CPUs, node ${process.version})`,
    table(
      ['load', ''],
      [
        ['concurrent buyers', l.buyers],
        ['seconds', l.seconds],
        ['purchases (201)', l.purchases],
        ['purchases / s', l.perSecond],
        ['latency p50 / p95 / p99 / max (ms)', `${l.latencyMs.p50} / ${l.latencyMs.p95} / ${l.latencyMs.p99} / ${l.latencyMs.max}`],
        ['answers', Object.entries(l.answers).map(([k, v]) => `${k}: ${v}`).join(', ')],
        ['5xx or no answer', fiveXx],
      ],
    ),
    table(
      ['waiting', ''],
      [
        ['activations waiting at once', w.waiting],
        ['time to buy them all (s)', w.startSeconds],
        ['window (s)', w.windowSeconds],
        ['upstream calls / minute', w.callsPerMinute],
        ['upstream calls / activation / minute', w.callsPerActivationMinute],
        ['calls by action', Object.entries(w.byAction).map(([k, v]) => `${k}: ${v}`).join(', ')],
        ['SMS at the provider → visible, p50 / p95 / max (ms)', `${w.smsVisibleMs.p50} / ${w.smsVisibleMs.p95} / ${w.smsVisibleMs.max} (${w.smsVisibleMs.samples} SMS)`],
        ['SMS not visible within 60 s', w.smsNotVisible.length],
        ['process RSS: API + worker + simulator (MiB)', w.rssMiB],
        ['CPU % of one core: node / temporal / postgres', `${w.nodeCpuPct} / ${w.temporalCpuPct} / ${w.postgresCpuPct}`],
      ],
    ),
  ].join('\n');
}

if (require.main === module) {
  runCapacityBench()
    .then((result) => {
      process.stdout.write(`${formatCapacity(result)}\n${JSON.stringify(result, null, 2)}\n`);
      const fiveXx = Object.keys(result.load.answers).some((status) => /^5|^0/.test(status));
      process.exit(fiveXx || result.waiting.smsNotVisible.length > 0 ? 1 : 0);
    })
    .catch((error) => {
      progress(`failed: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    });
}

/**
 * `npm run bench`: starts the whole system in-process against its own database and Temporal dev
 * server, measures, prints a table, writes .tmp/bench-results.json, stops everything.
 *
 *   0. the floor: update-with-start of a trivial workflow on the same server (bench/floor.ts)
 *   1. purchase throughput and latency at concurrency 1 / 10 / 50, CPU-ms per purchase, and the
 *      ratios to the floor; then concurrency 50 again per worker setting and process layout
 *      (slots, V8 context reuse, threads, several workers, separate worker processes)
 *   2. SMS-to-visible latency, provider webhook vs. the provider inbox (webhook off; defaults)
 *   3. Temporal history events per completed and per expired activation
 *   4. upstream provider calls per activation-minute while numbers wait for an SMS (defaults)
 *
 * Progress goes to stderr; the figures to stdout. Not a test: nothing here asserts.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { ActivationDto } from '../src/activations/activation.service';
import { cpuMsPer, measureFloor, type FloorLevel } from './floor';
import { ResourceMeter, type ResourceUse } from './resources';
import { RoundTrips } from './round-trips';
import { mean, pool, round, sleep, summarize, table, type Summary } from './stats';
import {
  COUNTRY_ISO,
  PROVIDER_TENANT,
  SERVICE,
  createCustomers,
  startInfra,
  startSimulator,
  startStack,
  type BenchSimulator,
  type Customer,
  type Stack,
} from './system';

const RESULTS_FILE = path.resolve(__dirname, '../.tmp/bench-results.json');

const LEVELS = [
  { concurrency: 1, purchases: 40 },
  { concurrency: 10, purchases: 200 },
  { concurrency: 50, purchases: 400 },
] as const;
/**
 * Worker settings and process layouts (issue 11, "worker tuned for the machine"): concurrency 50
 * again on a fresh stack per layout, against the same floor. The first row is section 1's own
 * run (SDK defaults, one process); each other row changes one thing.
 */
interface Layout {
  label: string;
  description: string;
  workers?: number;
  workerProcesses?: number;
  env?: Record<string, string>;
}
const LAYOUTS: readonly Layout[] = [
  { label: 'two-workers', description: '1 process, 2 workers on one task queue', workers: 2 },
  { label: 'slots-8', description: '1 process, 8 workflow-task slots, 4 polls', env: { WORKER_WORKFLOW_TASK_SLOTS: '8', WORKER_WORKFLOW_TASK_POLLS: '4' } },
  { label: 'slots-200', description: '1 process, 200 workflow-task slots, 50 polls', env: { WORKER_WORKFLOW_TASK_SLOTS: '200', WORKER_WORKFLOW_TASK_POLLS: '50' } },
  { label: 'no-reuse', description: '1 process, reuseV8Context off, 2 workflow threads', env: { WORKER_REUSE_V8_CONTEXT: 'false', WORKER_WORKFLOW_THREADS: '2' } },
  { label: 'threads-2', description: '1 process, reuseV8Context on, 2 workflow threads', env: { WORKER_WORKFLOW_THREADS: '2' } },
  { label: 'process-1', description: 'API process + 1 worker process', workerProcesses: 1 },
  { label: 'process-2', description: 'API process + 2 worker processes', workerProcesses: 2 },
];
const CUSTOMERS = 50;
const SMS_SAMPLES = 50;
/** Inbox samples (webhook off): the SMS arrives this long after the purchase (uniform), as `npm start`'s autoSms. */
const SMS_DELAY_MS = { min: 8_000, max: 30_000 };
const WAITING_ACTIVATIONS = 50;
const WAIT_WINDOW_MS = 60_000;
const EXPIRY_SAMPLES = 5;
const EXPIRY_LIFETIME_SECONDS = 10;

const runStarted = performance.now();
const progress = (message: string) => process.stderr.write(`[bench +${((performance.now() - runStarted) / 1000).toFixed(1)}s] ${message}\n`);

interface Bought {
  ms: number;
  /** Date.now() at request start and at the response: comparable with Temporal's event times (same machine). */
  startedWall: number;
  endedWall: number;
  activation: ActivationDto;
  customer: Customer;
}

class PurchaseError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`purchase failed: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

async function buy(stack: Stack, customer: Customer, key: string): Promise<Bought> {
  const startedWall = Date.now();
  const started = performance.now();
  const reply = await stack.request<{ activation: ActivationDto }>('POST', '/api/numbers', {
    token: customer.token,
    headers: { 'Idempotency-Key': key },
    body: { service: SERVICE, country: COUNTRY_ISO },
  });
  const ms = performance.now() - started;
  const endedWall = Date.now();
  if (reply.status !== 201 || !reply.body?.activation?.phone) throw new PurchaseError(reply.status, reply.body);
  return { ms, startedWall, endedWall, activation: reply.body.activation, customer };
}

/** Stops leftover workflows so their fallback polls do not load the next measurement. */
async function terminate(stack: Stack, ids: readonly string[]): Promise<void> {
  await pool(ids.length, 20, async (index) => {
    await stack.container.temporal.client.workflow
      .getHandle(ids[index])
      .terminate('bench cleanup')
      .catch(() => undefined);
  });
}

async function upstreamRef(stack: Stack, activationId: string): Promise<{ tenant: string; upstreamId: string }> {
  const row = await stack.container.db.activation.findUnique({ where: { id: activationId }, select: { providerId: true, upstreamId: true } });
  if (!row?.providerId || !row.upstreamId) throw new Error(`activation ${activationId} has no upstream id`);
  return { tenant: PROVIDER_TENANT[row.providerId], upstreamId: row.upstreamId };
}

/**
 * Polls GET /api/numbers/:id until it shows a message; returns performance.now() at the reply
 * that showed it. `fast()` says when to poll every `fastMs` (default: always); otherwise every
 * `slowMs`, re-checking `fast()` every `fastMs` so the switch costs no latency.
 */
async function waitVisible(
  stack: Stack,
  customer: Customer,
  activationId: string,
  options: { fastMs: number; slowMs?: number; fast?: () => boolean; timeoutMs?: number },
): Promise<{ at: number; inFastMode: boolean; polls: number }> {
  const deadline = performance.now() + (options.timeoutMs ?? 120_000);
  let lastPoll = Number.NEGATIVE_INFINITY;
  let polls = 0;
  for (;;) {
    const fast = options.fast ? options.fast() : true;
    if (fast || performance.now() - lastPoll >= (options.slowMs ?? 250)) {
      lastPoll = performance.now();
      polls++;
      const reply = await stack.request<{ activation: ActivationDto }>('GET', `/api/numbers/${activationId}`, { token: customer.token });
      if (reply.status !== 200) throw new Error(`GET /api/numbers/${activationId}: ${reply.status} ${JSON.stringify(reply.body)}`);
      if (reply.body.activation.messages.length > 0) return { at: performance.now(), inFastMode: options.fast ? options.fast() : true, polls };
    }
    if (performance.now() > deadline) throw new Error(`SMS never became visible on ${activationId}`);
    await sleep(options.fastMs);
  }
}

/** Finishes through the API, waits for the workflow to close and counts its history events. */
async function finishAndCountHistory(stack: Stack, customer: Customer, activationId: string): Promise<HistoryCount> {
  const finished = await stack.request('POST', `/api/numbers/${activationId}/finish`, { token: customer.token });
  if (finished.status !== 200) throw new Error(`finish ${activationId}: ${finished.status} ${JSON.stringify(finished.body)}`);
  return countHistory(stack, activationId);
}

interface HistoryCount {
  status: string;
  events: number;
  byKind: Record<string, number>;
}

/** Event kinds from whichever `…EventAttributes` field is set (no dependency on the proto enum). */
async function countHistory(stack: Stack, activationId: string): Promise<HistoryCount> {
  const handle = stack.container.temporal.client.workflow.getHandle(activationId);
  const result = (await handle.result()) as { status: string };
  const { events } = await handle.fetchHistory();
  const history = events ?? [];
  const byKind: Record<string, number> = {};
  for (const event of history) {
    const key = Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k] != null) ?? 'unknown';
    const kind = key.replace(/EventAttributes$/, '');
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return { status: result.status, events: history.length, byKind };
}

function historySummary(samples: HistoryCount[]) {
  const kinds = new Set(samples.flatMap((s) => Object.keys(s.byKind)));
  const byKind: Record<string, number> = {};
  for (const kind of [...kinds].sort()) byKind[kind] = round(mean(samples.map((s) => s.byKind[kind] ?? 0)), 2);
  const group = (test: (kind: string) => boolean) => round(Object.entries(byKind).filter(([k]) => test(k)).reduce((sum, [, v]) => sum + v, 0), 1);
  return {
    samples: samples.length,
    statuses: [...new Set(samples.map((s) => s.status))],
    meanEvents: round(mean(samples.map((s) => s.events)), 1),
    minEvents: Math.min(...samples.map((s) => s.events)),
    maxEvents: Math.max(...samples.map((s) => s.events)),
    groups: {
      workflowTask: group((k) => k.startsWith('workflowTask')),
      activity: group((k) => k.startsWith('activityTask')),
      timer: group((k) => k.startsWith('timer')),
      signal: group((k) => k.startsWith('workflowExecutionSignaled')),
      update: group((k) => k.startsWith('workflowExecutionUpdate')),
      searchAttributes: group((k) => k === 'upsertWorkflowSearchAttributes'),
      markers: group((k) => k === 'markerRecorded'),
      other: group(
        (k) =>
          !k.startsWith('workflowTask') &&
          !k.startsWith('activityTask') &&
          !k.startsWith('timer') &&
          !k.startsWith('workflowExecutionSignaled') &&
          !k.startsWith('workflowExecutionUpdate') &&
          k !== 'upsertWorkflowSearchAttributes' &&
          k !== 'markerRecorded',
      ),
    },
    byKind,
  };
}

/** Mean milliseconds per purchase on its critical path, from request start to the 201. */
interface PurchaseBreakdown {
  samples: number;
  totalMs: number;
  apiBeforeWorkflowStartMs: number;
  workflowTasks: number;
  workflowTaskQueueWaitMs: number;
  workflowTaskProcessingMs: number;
  activities: number;
  activityMs: number;
  /** From the completion of the task that bought the number to the 201: negative when the answer (by event) left first. */
  taskCompletedToResponseMs: number;
  unaccountedMs: number;
}

const eventMs = (event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/**
 * Where a purchase's time goes, read from its history up to the completion of the task that
 * bought the number: workflow tasks waiting in the task queue vs. being processed by the worker,
 * activities, and the API before the workflow starts / after that task. Temporal's clock is this
 * machine's.
 */
async function purchaseBreakdown(stack: Stack, samples: readonly Bought[]): Promise<PurchaseBreakdown> {
  const rows = await Promise.all(
    samples.map(async (sample) => {
      const { events } = await stack.container.temporal.client.workflow.getHandle(sample.activation.id).fetchHistory();
      const row = { total: sample.endedWall - sample.startedWall, before: 0, wft: 0, wftWait: 0, wftRun: 0, acts: 0, actMs: 0, after: 0 };
      const scheduledAt = new Map<string, number>();
      const wftScheduled: number[] = [];
      let wftStarted = 0;
      const history = events ?? [];
      for (const [index, event] of history.entries()) {
        const at = eventMs(event);
        const id = String(event.eventId);
        if (event.workflowExecutionStartedEventAttributes) row.before = at - sample.startedWall;
        else if (event.workflowTaskScheduledEventAttributes) wftScheduled.push(at);
        else if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') row.acts++; // ran inside the WFT: its time is in "processing"
        else if (event.workflowTaskStartedEventAttributes) {
          row.wftWait += at - (wftScheduled.at(-1) ?? at);
          wftStarted = at;
          row.wft++;
        } else if (event.workflowTaskCompletedEventAttributes || event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) {
          row.wftRun += at - wftStarted;
          // The task that bought the number is the first to publish a state change (ACTIVE or
          // FAILED); its local activities are the markers its completion recorded, before that upsert.
          const rest = history.slice(index + 1);
          const markers = rest.findIndex((e) => !e.markerRecordedEventAttributes);
          if (event.workflowTaskCompletedEventAttributes && rest[markers]?.upsertWorkflowSearchAttributesEventAttributes) {
            row.acts += markers;
            row.after = sample.endedWall - at;
            break;
          }
        } else if (event.activityTaskScheduledEventAttributes) scheduledAt.set(id, at);
        else if (event.activityTaskCompletedEventAttributes || event.activityTaskFailedEventAttributes) {
          const attrs = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
          row.actMs += at - (scheduledAt.get(String(attrs?.scheduledEventId)) ?? at);
          row.acts++;
        }
      }
      return row;
    }),
  );
  const avg = (pick: (row: (typeof rows)[number]) => number) => round(mean(rows.map(pick)), 1);
  const breakdown = {
    samples: rows.length,
    totalMs: avg((r) => r.total),
    apiBeforeWorkflowStartMs: avg((r) => r.before),
    workflowTasks: avg((r) => r.wft),
    workflowTaskQueueWaitMs: avg((r) => r.wftWait),
    workflowTaskProcessingMs: avg((r) => r.wftRun),
    activities: avg((r) => r.acts),
    activityMs: avg((r) => r.actMs),
    taskCompletedToResponseMs: avg((r) => r.after),
  };
  const accounted =
    breakdown.apiBeforeWorkflowStartMs + breakdown.workflowTaskQueueWaitMs + breakdown.workflowTaskProcessingMs + breakdown.activityMs + breakdown.taskCompletedToResponseMs;
  return { ...breakdown, unaccountedMs: round(breakdown.totalMs - accounted, 1) };
}

// ---------------------------------------------------------------------------------------------

interface LevelResult {
  concurrency: number;
  purchases: number;
  succeeded: number;
  errors: number;
  firstError: string | null;
  wallSeconds: number;
  purchasesPerSecond: number;
  latencyMs: Summary;
  resources: ResourceUse;
  /** CPU of this process (API, worker, simulator, bench client) + Temporal + PostgreSQL per purchase. */
  cpuMsPerPurchase: number;
  /** Machine CPU not used by this process, the Temporal server or our PostgreSQL backends (other processes on the machine). */
  otherCpuPct: number;
  /** SQL statements and Redis commands this process sent per purchase (round-trips.ts; background work included). */
  sqlPerPurchase: number;
  redisPerPurchase: number;
  breakdown: PurchaseBreakdown;
}

interface LayoutResult extends LevelResult {
  label: string;
  description: string;
}

/** Up to `count` items spread evenly over the list. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]);
}

async function purchaseLevels(stack: Stack, customers: Customer[], meter: ResourceMeter, roundTrips: RoundTrips, levels: readonly { concurrency: number; purchases: number }[] = LEVELS): Promise<LevelResult[]> {
  // Warm-up (JIT, connection pools, workflow cache): not measured.
  const warm: string[] = [];
  await pool(10, 5, async (i) => {
    warm.push((await buy(stack, customers[i % customers.length], `bench-warmup-${i}-${randomUUID()}`)).activation.id);
  });
  await terminate(stack, warm);

  const results: LevelResult[] = [];
  for (const level of levels) {
    progress(`purchases: concurrency ${level.concurrency}, ${level.purchases} purchases`);
    const latencies: number[] = [];
    const ids: string[] = [];
    const bought: Bought[] = [];
    let errors = 0;
    let firstError: string | null = null;
    const before = await meter.snapshot();
    const sentBefore = roundTrips.snapshot();
    const started = performance.now();
    await pool(level.purchases, level.concurrency, async (i) => {
      try {
        const purchase = await buy(stack, customers[i % customers.length], `bench-c${level.concurrency}-${i}-${randomUUID()}`);
        latencies.push(purchase.ms);
        ids.push(purchase.activation.id);
        bought.push(purchase);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const resources = await meter.since(before);
    const sent = roundTrips.since(sentBefore);
    const breakdown = await purchaseBreakdown(stack, spread(bought, 40));
    results.push({
      concurrency: level.concurrency,
      purchases: level.purchases,
      succeeded: latencies.length,
      errors,
      firstError,
      wallSeconds: round(wallSeconds, 2),
      purchasesPerSecond: round(latencies.length / wallSeconds, 1),
      latencyMs: summarize(latencies),
      resources,
      cpuMsPerPurchase: cpuMsPer(resources, wallSeconds, latencies.length),
      otherCpuPct: Math.max(0, resources.machineBusyPct - resources.nodeCpuPct - resources.workerProcessesCpuPct - resources.temporalCpuPct - (Number.isFinite(resources.postgresCpuPct) ? resources.postgresCpuPct : 0)),
      sqlPerPurchase: round(sent.sql / Math.max(1, latencies.length), 1),
      redisPerPurchase: round(sent.redis / Math.max(1, latencies.length), 1),
      breakdown,
    });
    progress(`  ${round(latencies.length / wallSeconds, 1)} purchases/s, p50 ${summarize(latencies).p50} ms; terminating ${ids.length} workflows`);
    await terminate(stack, ids);
    await sleep(500);
  }
  return results;
}

interface SmsLatencyResult {
  path: string;
  samples: number;
  latencyMs: Summary;
  apiPollsPerSample: number;
  /** Polling-only: samples whose SMS was visible with no provider poll since it arrived (should be 0). */
  visibleBeforeProviderPoll?: number;
  smsDelayAfterPurchaseMs?: { min: number; max: number };
}

async function smsViaWebhook(stack: Stack, sim: BenchSimulator, customers: Customer[], webhookSecret: string): Promise<{ latency: SmsLatencyResult; history: HistoryCount[] }> {
  await sim.setWebhook((providerId) => `${stack.api.url}/webhooks/providers/${providerId}?secret=${encodeURIComponent(webhookSecret)}`);
  const latencies: number[] = [];
  const history: HistoryCount[] = [];
  let polls = 0;
  for (let i = 0; i < SMS_SAMPLES; i++) {
    const customer = customers[i % customers.length];
    const { activation } = await buy(stack, customer, `bench-webhook-${i}-${randomUUID()}`);
    const ref = await upstreamRef(stack, activation.id);
    const sent = performance.now();
    const delivering = sim.control('POST', `/${ref.tenant}/activations/${ref.upstreamId}/sms`, { code: String(100000 + i) });
    const visible = await waitVisible(stack, customer, activation.id, { fastMs: 5 });
    await delivering;
    latencies.push(visible.at - sent);
    polls += visible.polls;
    history.push(await finishAndCountHistory(stack, customer, activation.id));
  }
  return { latency: { path: 'provider webhook', samples: latencies.length, latencyMs: summarize(latencies), apiPollsPerSample: round(polls / latencies.length, 1) }, history };
}

async function smsViaInbox(stack: Stack, sim: BenchSimulator, customers: Customer[]): Promise<{ latency: SmsLatencyResult; history: HistoryCount[] }> {
  await sim.setWebhook(null);
  const latencies: number[] = [];
  const history: HistoryCount[] = [];
  let polls = 0;
  let early = 0;
  await pool(SMS_SAMPLES, SMS_SAMPLES, async (i) => {
    const customer = customers[i % customers.length];
    const { activation } = await buy(stack, customer, `bench-polling-${i}-${randomUUID()}`);
    const ref = await upstreamRef(stack, activation.id);
    await sleep(SMS_DELAY_MS.min + Math.random() * (SMS_DELAY_MS.max - SMS_DELAY_MS.min));
    const sent = performance.now();
    await sim.control('POST', `/${ref.tenant}/activations/${ref.upstreamId}/sms`, { code: String(200000 + i) });
    // Poll the API every 10 ms once the provider's inbox poll (or the workflow's own fallback poll)
    // has reached the provider — the only ways the SMS can become visible with the webhook off —
    // every 250 ms before that.
    const visible = await waitVisible(stack, customer, activation.id, {
      fastMs: 10,
      slowMs: 250,
      fast: () => sim.lastListAt(ref.tenant) >= sent || sim.lastStatusAt(ref.upstreamId) >= sent,
    });
    latencies.push(visible.at - sent);
    polls += visible.polls;
    if (!visible.inFastMode) early++;
    history.push(await finishAndCountHistory(stack, customer, activation.id));
  });
  return {
    latency: {
      path: `inbox every ${stack.config.activation.inboxIntervalMs / 1000} s, webhook off`,
      samples: latencies.length,
      latencyMs: summarize(latencies),
      apiPollsPerSample: round(polls / latencies.length, 1),
      visibleBeforeProviderPoll: early,
      smsDelayAfterPurchaseMs: SMS_DELAY_MS,
    },
    history,
  };
}

interface UpstreamCallsResult {
  activations: number;
  windowSeconds: number;
  /** Calls naming one of the waiting activations during the fixed window after all were bought. */
  callsInWindow: number;
  callsInWindowByAction: Record<string, number>;
  callsPerActivationMinute: number;
  /** The inbox polls (getActiveActivations) of the window: they serve every waiting number of their provider at once. */
  inboxCallsInWindow: number;
  /** Every upstream call of the window (per-activation ones and the inbox polls) per waiting activation-minute. */
  allCallsPerActivationMinute: number;
  inboxIntervalMs: number;
  fallbackPollMs: number;
  /** Same, counted over each activation's own first minute after its purchase (purchase call excluded). */
  callsPerActivationFirstMinute: number;
  purchaseCalls: number;
  /** From the polling config alone: polls at initial, then doubling up to max (activity time ignored). */
  expected: { firstMinute: number; perMinuteLater: number; pollAtSeconds: number[] };
}

function expectedPolls(polling: { initialMs: number; maxMs: number }) {
  const at: number[] = [];
  let t = 0;
  let delay = polling.initialMs;
  while (t + delay <= 120_000) {
    t += delay;
    at.push(t / 1000);
    delay = Math.min(delay * 2, polling.maxMs);
  }
  return { firstMinute: at.filter((s) => s <= 60).length, perMinuteLater: round(60_000 / polling.maxMs, 2), pollAtSeconds: at };
}

async function upstreamCallsWhileWaiting(stack: Stack, sim: BenchSimulator, customers: Customer[], alongside: () => Promise<void>): Promise<UpstreamCallsResult> {
  await sim.setWebhook(null);
  const bought: { upstreamId: string; at: number }[] = [];
  const purchaseStart = sim.calls.length;
  await pool(WAITING_ACTIVATIONS, 10, async (i) => {
    const { activation } = await buy(stack, customers[i % customers.length], `bench-wait-${i}-${randomUUID()}`);
    const at = performance.now();
    bought.push({ upstreamId: (await upstreamRef(stack, activation.id)).upstreamId, at });
  });
  const purchaseCalls = sim.calls.slice(purchaseStart).filter((c) => c.action.startsWith('getNumber')).length;
  const ids = new Set(bought.map((b) => b.upstreamId));
  const windowStart = performance.now();
  progress(`upstream calls: ${bought.length} activations waiting, ${WAIT_WINDOW_MS / 1000} s window`);
  await Promise.all([sleep(WAIT_WINDOW_MS), alongside()]);
  // `alongside` may outlast the window; count only the window.
  const windowEnd = windowStart + WAIT_WINDOW_MS;
  const mine = sim.calls.filter((c) => c.id !== null && ids.has(c.id));
  const inWindow = mine.filter((c) => c.at >= windowStart && c.at <= windowEnd);
  const inboxCalls = sim.calls.filter((c) => c.action === 'getActiveActivations' && c.at >= windowStart && c.at <= windowEnd).length;
  const byAction: Record<string, number> = {};
  for (const call of inWindow) byAction[call.action] = (byAction[call.action] ?? 0) + 1;
  const firstMinute = bought.map((b) => mine.filter((c) => c.id === b.upstreamId && c.at >= b.at && c.at <= b.at + 60_000).length);
  return {
    activations: bought.length,
    windowSeconds: WAIT_WINDOW_MS / 1000,
    callsInWindow: inWindow.length,
    callsInWindowByAction: byAction,
    callsPerActivationMinute: round(inWindow.length / bought.length / (WAIT_WINDOW_MS / 60_000), 2),
    inboxCallsInWindow: inboxCalls,
    allCallsPerActivationMinute: round((inWindow.length + inboxCalls) / bought.length / (WAIT_WINDOW_MS / 60_000), 3),
    inboxIntervalMs: stack.config.activation.inboxIntervalMs,
    fallbackPollMs: stack.config.activation.pollInitialMs,
    callsPerActivationFirstMinute: round(mean(firstMinute), 2),
    purchaseCalls,
    expected: expectedPolls({ initialMs: stack.config.activation.pollInitialMs, maxMs: stack.config.activation.pollMaxMs }),
  };
}

async function expiredHistories(stack: Stack, customers: Customer[]): Promise<HistoryCount[]> {
  const samples: HistoryCount[] = [];
  await pool(EXPIRY_SAMPLES, EXPIRY_SAMPLES, async (i) => {
    const { activation } = await buy(stack, customers[i % customers.length], `bench-expire-${i}-${randomUUID()}`);
    samples.push(await countHistory(stack, activation.id));
  });
  return samples;
}

// ---------------------------------------------------------------------------------------------

function fmtPct(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)}%` : '–';
}

/** a / b as "0.52×"; '–' when either is missing. */
function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${round(a / b, 2)}×` : '–';
}

function report(results: {
  floor: FloorLevel[];
  layouts: LayoutResult[];
  levels: LevelResult[];
  sms: SmsLatencyResult[];
  history: { kind: string; summary: ReturnType<typeof historySummary> }[];
  upstream: UpstreamCallsResult;
  meta: { date: string; cpus: number; cpuModel: string; runSeconds: number };
}): string {
  const out: string[] = [];
  out.push('');
  out.push(`SimGate bench — ${results.meta.date}  (${results.meta.cpus} × ${results.meta.cpuModel}, node ${process.version})`);
  out.push('');
  out.push('0. Floor: update-with-start of a trivial workflow (answers the update, ends) on the same dev server, same run, just before 1.');
  out.push(
    table(
      ['concurrency', 'runs', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU-ms / run'],
      results.floor.map((f) => [String(f.concurrency), f.runs, f.perSecond, f.latencyMs.p50, f.latencyMs.p95, f.latencyMs.p99, f.cpuMsPerRun]),
    ),
  );
  out.push('');
  out.push('1. Purchase: POST /api/numbers → 201 with the phone number (service tg, country ID)');
  out.push(
    table(
      ['concurrency', 'purchases', 'errors', 'wall s', 'purchases/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'node CPU', 'temporal CPU', 'postgres CPU', 'other CPU', 'event loop busy', 'SQL / purchase', 'Redis / purchase'],
      results.levels.map((l) => [
        String(l.concurrency),
        l.succeeded,
        l.errors,
        l.wallSeconds,
        l.purchasesPerSecond,
        l.latencyMs.p50,
        l.latencyMs.p95,
        l.latencyMs.p99,
        l.latencyMs.max,
        fmtPct(l.resources.nodeCpuPct),
        fmtPct(l.resources.temporalCpuPct),
        fmtPct(l.resources.postgresCpuPct),
        fmtPct(l.otherCpuPct),
        fmtPct(l.resources.eventLoopUtilization * 100),
        l.sqlPerPurchase,
        l.redisPerPurchase,
      ]),
    ),
  );
  out.push(`   CPU: % of one core (${results.meta.cpus} cores = ${results.meta.cpus * 100}%). node = this process: API, worker (activities on the main event loop,`);
  out.push('   workflows in a worker thread), simulator and the bench client. other = rest of the machine (e.g. someone else\'s test run).');
  out.push('   SQL / Redis per purchase: statements and commands this process sent during the level, ÷ purchases (bench/round-trips.ts): they do not move with the load.');
  out.push('');
  out.push('1a. Against the floor (SimGate ÷ floor, same run): latency ratios above 1 are SimGate\'s own cost; throughput as a share of the floor\'s');
  out.push(
    table(
      ['concurrency', 'p50 ms', 'floor p50', 'p50 ratio', 'p99 ms', 'floor p99', 'p99 ratio', 'purchases/s', 'floor/s', 'share of floor', 'CPU-ms / purchase', 'floor CPU-ms', 'CPU ratio'],
      results.levels.map((l) => {
        const f = results.floor.find((x) => x.concurrency === l.concurrency);
        return [
          String(l.concurrency),
          l.latencyMs.p50,
          f?.latencyMs.p50 ?? '–',
          ratio(l.latencyMs.p50, f?.latencyMs.p50 ?? Number.NaN),
          l.latencyMs.p99,
          f?.latencyMs.p99 ?? '–',
          ratio(l.latencyMs.p99, f?.latencyMs.p99 ?? Number.NaN),
          l.purchasesPerSecond,
          f?.perSecond ?? '–',
          f ? fmtPct((l.purchasesPerSecond / f.perSecond) * 100) : '–',
          l.cpuMsPerPurchase,
          f?.cpuMsPerRun ?? '–',
          ratio(l.cpuMsPerPurchase, f?.cpuMsPerRun ?? Number.NaN),
        ];
      }),
    ),
  );
  out.push('');
  const c50 = results.levels[results.levels.length - 1];
  const c50floor = results.floor.find((f) => f.concurrency === c50.concurrency);
  out.push(`1c. Worker settings and process layouts, concurrency ${c50.concurrency} (a fresh stack each; the first row is section 1's run)`);
  out.push(
    table(
      ['layout', 'purchases/s', 'share of floor', 'p50 ms', 'p99 ms', 'errors', 'CPU-ms / purchase', 'this process CPU', 'worker processes CPU', 'temporal CPU', 'postgres CPU'],
      [{ ...c50, label: 'defaults', description: '1 process, SDK defaults (40 slots, 10 polls, reused V8 context, 1 thread)' }, ...results.layouts].map((l) => [
        l.description,
        l.purchasesPerSecond,
        c50floor ? fmtPct((l.purchasesPerSecond / c50floor.perSecond) * 100) : '–',
        l.latencyMs.p50,
        l.latencyMs.p99,
        l.errors,
        l.cpuMsPerPurchase,
        fmtPct(l.resources.nodeCpuPct),
        fmtPct(l.resources.workerProcessesCpuPct),
        fmtPct(l.resources.temporalCpuPct),
        fmtPct(l.resources.postgresCpuPct),
      ]),
    ),
  );
  out.push('   this process = API, simulator and bench client (and the workers, in the 1-process rows); worker processes = `src/bin/worker.ts`.');
  out.push('');
  out.push('1b. Where a purchase\'s time goes (mean ms per purchase, up to 40 per level, from each workflow\'s history)');
  out.push(
    table(
      ['concurrency', 'total', 'API before start', 'WFT queue wait', 'WFT processing', 'activities', 'task done → 201', 'unaccounted', 'WFTs', 'activities #'],
      results.levels.map((l) => {
        const b = l.breakdown;
        return [String(l.concurrency), b.totalMs, b.apiBeforeWorkflowStartMs, b.workflowTaskQueueWaitMs, b.workflowTaskProcessingMs, b.activityMs, b.taskCompletedToResponseMs, b.unaccountedMs, b.workflowTasks, b.activities];
      }),
    ),
  );
  out.push('   WFT = workflow task. queue wait = scheduled → picked up by the worker; processing = picked up → completed (worker + server,');
  out.push('   local activities included: they run inside the task). activities # counts remote and local ones.');
  const firstError = results.levels.find((l) => l.firstError)?.firstError;
  if (firstError) out.push(`   first error: ${firstError}`);
  out.push('');
  out.push('2. SMS → visible: simulator receives the SMS → GET /api/numbers/:id shows it');
  out.push(
    table(
      ['path', 'samples', 'p50 ms', 'p95 ms', 'max ms', 'mean ms', 'API polls/sample'],
      results.sms.map((s) => [s.path, s.samples, s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.max, s.latencyMs.mean, s.apiPollsPerSample]),
    ),
  );
  out.push(`   webhook samples one at a time, API polled every 5 ms; inbox samples concurrent, SMS ${SMS_DELAY_MS.min / 1000}–${SMS_DELAY_MS.max / 1000} s`);
  out.push('   after purchase (uniform), API polled every 10 ms from the next provider poll — inbox or fallback — (250 ms before it).');
  const early = results.sms.find((s) => s.visibleBeforeProviderPoll !== undefined)?.visibleBeforeProviderPoll;
  if (early) out.push(`   NOTE: ${early} inbox samples showed the SMS with no provider poll since it arrived (measured at 250 ms resolution).`);
  out.push('');
  out.push('3. Temporal history events per activation (fetchHistory().events.length); markers = local activities (plus a version marker on the legacy type only)');
  out.push(
    table(
      ['activation', 'samples', 'mean events', 'min', 'max', 'wf tasks', 'activities', 'markers', 'timers', 'signals', 'updates', 'search attr', 'other'],
      results.history.map(({ kind, summary: h }) => [
        kind,
        h.samples,
        h.meanEvents,
        h.minEvents,
        h.maxEvents,
        h.groups.workflowTask,
        h.groups.activity,
        h.groups.markers,
        h.groups.timer,
        h.groups.signal,
        h.groups.update,
        h.groups.searchAttributes,
        h.groups.other,
      ]),
    ),
  );
  const statuses = results.history.map(({ kind, summary }) => `${kind}: ${summary.statuses.join('/')}`).join('; ');
  out.push(`   final statuses — ${statuses}`);
  out.push('');
  const u = results.upstream;
  out.push(
    `4. Upstream provider calls while ${u.activations} activations wait for an SMS (defaults: inbox every ${u.inboxIntervalMs / 1000} s, first fallback poll after ${u.fallbackPollMs / 1000} s, webhook off)`,
  );
  out.push(
    table(
      ['measure', 'value'],
      [
        [`handler_api calls in a fixed ${u.windowSeconds} s window after all were bought`, u.callsInWindow],
        ['  by action', Object.entries(u.callsInWindowByAction).map(([a, n]) => `${a} ${n}`).join(', ') || '–'],
        ['calls naming one activation, / activation / minute (fixed window)', u.callsPerActivationMinute],
        [`inbox polls (getActiveActivations, all waiting numbers at once) in the window`, u.inboxCallsInWindow],
        ['all upstream calls / waiting activation / minute (inbox polls shared by these)', u.allCallsPerActivationMinute],
        ["calls / activation in its own first minute (purchase excluded)", u.callsPerActivationFirstMinute],
        ['purchase calls (getNumber*) for these activations', u.purchaseCalls],
        ['expected from the poll schedule: calls in the first minute / per minute later', `${u.expected.firstMinute} / ${u.expected.perMinuteLater}`],
      ],
    ),
  );
  out.push('');
  out.push(`Run time ${results.meta.runSeconds} s. JSON: ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // Before any worker: terminating leftover workflows makes the core log harmless "task not found"
  // warnings; startWorker keeps an already-installed runtime.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const roundTrips = RoundTrips.install();
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch((error) => progress(`stop failed: ${(error as Error).message}`));
    })());
  process.once('SIGINT', () => {
    progress('interrupted: stopping');
    void stopAll().finally(() => process.exit(130));
  });

  try {
    progress('starting PostgreSQL database, Temporal dev server, workflow bundle');
    const infra = await startInfra();
    stops.push(() => infra.stop());
    progress(`database ${new URL(infra.databaseUrl).pathname.slice(1)}, Temporal at ${infra.temporal.address}`);

    const sim = await startSimulator();
    stops.push(() => sim.close());
    const webhookSecret = `bench-webhook-secret-${randomUUID()}`;
    const adminEmail = `admin-${randomUUID()}@simgate.test`;
    const main = await startStack({ label: 'main', infra, simulatorUrl: sim.url, webhookSecret, adminEmail });
    stops.push(() => main.stop());
    const meter = await ResourceMeter.create({ temporalPid: infra.temporal.process.pid, databaseUrl: infra.databaseUrl });
    stops.push(() => meter.close());

    progress(`creating ${CUSTOMERS} customers`);
    const customers = await createCustomers(main, CUSTOMERS, 1_000_000_000n);

    progress('floor: trivial update-with-start workflow');
    const floor = await measureFloor({ address: infra.temporal.address, client: main.container.temporal.client, meter, levels: LEVELS, progress });

    const levels = await purchaseLevels(main, customers, meter, roundTrips);
    if (process.env.BENCH_ONLY === 'purchases') {
      // A quick look while working on the purchase path: sections 0 and 1 only, not for the README.
      for (const level of levels) {
        const f = floor.find((l) => l.concurrency === level.concurrency);
        process.stdout.write(
          `c${level.concurrency}: ${level.purchasesPerSecond}/s (floor ${f?.perSecond}/s), p50 ${level.latencyMs.p50} p99 ${level.latencyMs.p99} ms (floor ${f?.latencyMs.p50}/${f?.latencyMs.p99}), ${level.cpuMsPerPurchase} CPU-ms (floor ${f?.cpuMsPerRun}), ${level.sqlPerPurchase} SQL + ${level.redisPerPurchase} Redis per purchase\n`,
        );
      }
      await stopAll();
      return;
    }

    const layouts: LayoutResult[] = [];
    for (const layout of LAYOUTS) {
      progress(`layout: ${layout.description}`);
      const stack = await startStack({ label: layout.label, infra, simulatorUrl: sim.url, webhookSecret, adminEmail, inbox: false, workers: layout.workers, workerProcesses: layout.workerProcesses, env: layout.env });
      meter.watchProcesses(stack.workerPids);
      try {
        const [level] = await purchaseLevels(stack, customers, meter, roundTrips, [LEVELS[LEVELS.length - 1]]);
        layouts.push({ ...level, label: layout.label, description: layout.description });
      } finally {
        meter.watchProcesses([]);
        await stack.stop();
      }
    }

    progress(`SMS latency via webhook: ${SMS_SAMPLES} samples`);
    const webhook = await smsViaWebhook(main, sim, customers, webhookSecret);
    progress(`  p50 ${webhook.latency.latencyMs.p50} ms`);
    progress(`SMS latency via the provider inbox (webhook off): ${SMS_SAMPLES} samples (about 50 s)`);
    const polling = await smsViaInbox(main, sim, customers);
    progress(`  p50 ${polling.latency.latencyMs.p50} ms`);

    // The expiry samples need a provider lifetime of 10 s: a second stack (own worker and task
    // queue, same database, Temporal and simulator), run during the upstream-call window.
    let expired: HistoryCount[] = [];
    const expiryRun = async () => {
      const short = await startStack({ label: 'expiry', infra, simulatorUrl: sim.url, webhookSecret, adminEmail, provider: { lifetimeSeconds: EXPIRY_LIFETIME_SECONDS } });
      stops.push(() => short.stop());
      progress(`expiry: ${EXPIRY_SAMPLES} activations with a ${EXPIRY_LIFETIME_SECONDS} s lifetime`);
      expired = await expiredHistories(short, customers);
      progress('  expiry samples done');
    };
    const upstream = await upstreamCallsWhileWaiting(main, sim, customers, expiryRun);
    progress(`  ${upstream.callsPerActivationMinute} calls/activation/minute`);

    const results = {
      meta: {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        node: process.version,
        runSeconds: round((performance.now() - runStarted) / 1000, 1),
        service: SERVICE,
        country: COUNTRY_ISO,
        customers: CUSTOMERS,
        polling: { initialMs: main.config.activation.pollInitialMs, maxMs: main.config.activation.pollMaxMs },
        inboxIntervalMs: main.config.activation.inboxIntervalMs,
      },
      floor,
      layouts,
      levels,
      sms: [webhook.latency, polling.latency],
      history: [
        { kind: 'completed (SMS by webhook)', summary: historySummary(webhook.history) },
        { kind: 'completed (SMS by inbox)', summary: historySummary(polling.history) },
        { kind: `expired (lifetime ${EXPIRY_LIFETIME_SECONDS} s)`, summary: historySummary(expired) },
      ],
      upstream,
    };

    progress('stopping');
    await stopAll();
    results.meta.runSeconds = round((performance.now() - runStarted) / 1000, 1);
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${report(results)}\n`);
  } catch (error) {
    progress(`failed: ${(error as Error).stack ?? String(error)}`);
    await stopAll();
    process.exitCode = 1;
  }
}

void main().then(() => process.exit(process.exitCode ?? 0));

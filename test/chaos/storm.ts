import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/app.config';
import type { ProviderConfig } from '../../src/config/providers.config';
import { createContainer } from '../../src/container';
import { applyMigrations, dropDatabase } from '../../src/db/migrate';
import { seedCatalog } from '../../src/runtime';
import { createSimulator, FIVESIM_SIM_TOKEN, fivesimTenant, type Simulator, type TenantConfig } from '../../src/simulator';
import { freePort } from '../../src/temporal/dev-server';
import { buildWorkflowBundle } from '../../src/temporal/worker';
import { discrepancies, inspect, type Checks } from './checks';
import { call, seededRandom, sleep, type Reply, type SeededRandom } from './http';
import { installExitGuards, killAll, NodeService, PersistedTemporal, PrivateRedis } from './processes';

/**
 * `npm run chaos`: customers buy, cancel, finish, ask for another SMS and let numbers expire over
 * real HTTP while the harness SIGKILLs the worker (also mid slow buy), restarts the Temporal dev
 * server and a private Redis, and makes both simulated providers misbehave. Then it lets the
 * system settle and checks money, holds, upstream numbers and SMS end to end (checks.ts).
 */

export const FAULT_KINDS = [
  'worker-kill',
  'worker-kill-during-slow-buy',
  'temporal-restart',
  'redis-restart',
  'provider-5xx-burst',
  'provider-timeouts',
  'provider-429',
  'provider-slow',
  'provider-sold-but-timed-out',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const INTENTS = ['cancel', 'finish', 'another-sms', 'expire'] as const;
type Intent = (typeof INTENTS)[number];

export interface StormOptions {
  customers: number;
  /** The storm stops starting purchases after this many, or after durationMs, whichever comes first. */
  purchases: number;
  durationMs: number;
  seed: number;
  /** Provider number lifetime and cancel lock (ours and the simulator's agree). */
  lifetimeSeconds: number;
  minCancelSeconds: number;
  /** Our adapters' per-call budget; "slow" faults stay under it, "timeouts" go over it. */
  requestTimeoutMs: number;
  /**
   * Reconciliation cadence and orphan grace for the providers' inbox workflows: short enough that
   * an orphan is found while it is still open upstream (the lifetime is short too).
   */
  reconcileEveryMs: number;
  orphanGraceMs: number;
  /** Pause between faults, ms. */
  faultGapMs: [number, number];
  /** Faults run first, in this order, before the seeded random ones. */
  firstFaults: FaultKind[];
  /** Longest wait after the storm for the checks to come clean. */
  settleMs: number;
  keepArtifacts: boolean;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: StormOptions = {
  customers: 12,
  purchases: 2000,
  durationMs: 20 * 60_000,
  seed: 1,
  // Six times the orphan grace: reconciliation lists open numbers only, and the storm's faults hit
  // those calls too (production: 20 min against 2 min).
  lifetimeSeconds: 60,
  minCancelSeconds: 4,
  requestTimeoutMs: 2000,
  reconcileEveryMs: 5000,
  orphanGraceMs: 10_000,
  faultGapMs: [2000, 6000],
  firstFaults: [],
  settleMs: 150_000,
  keepArtifacts: false,
  log: (line) => process.stdout.write(`${line}\n`),
};

export interface StormSummary {
  seed: number;
  runDir: string;
  stormMs: number;
  purchasesStarted: number;
  purchasesPerMinute: number;
  /** intent → outcome (final activation status, or the refusal code) → count. */
  outcomes: Record<string, Record<string, number>>;
  /** Customer actions and what they were answered: `cancel 200`, `finish 409 NO_SMS_YET`… */
  actions: Record<string, number>;
  faults: Record<string, number>;
  /** Recorded purchases per provider that sold them. */
  byProvider: Record<string, number>;
  unplannedExits: Record<string, number>;
  checks: Checks;
  discrepancies: string[];
}

/** Simulator tenant → our provider id. */
const TENANTS = { activate: 'activate-sim', fivesim: 'fivesim-sim' } as const;
type Tenant = keyof typeof TENANTS;
const PROVIDER_TENANT: Record<string, Tenant> = { 'activate-sim': 'activate', 'fivesim-sim': 'fivesim' };
/** The fault-matching name of each tenant's buy call. */
const BUY_ACTION: Record<Tenant, string> = { activate: 'getNumberV2', fivesim: 'buy' };
/** What the customers buy: Telegram in the United Kingdom, sold by both tenants. */
const SERVICE = 'tg';
const COUNTRY = 'GB';

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']);
/** Answers worth asking again with the same Idempotency-Key: nobody said no, the answer was lost or the system was down. */
const RETRY_CODES = new Set(['NO_REPLY', 'CLIENT_TIMEOUT', 'INTERNAL', 'ACTION_IN_PROGRESS', 'HOLD_BUSY', 'RATE_LIMITED', 'PROVIDERS_UNAVAILABLE']);
const shouldRetry = (reply: Reply) => reply.status === 0 || (reply.code !== null && RETRY_CODES.has(reply.code)) || (reply.status >= 500 && reply.code === null);

export async function runStorm(overrides: Partial<StormOptions> = {}): Promise<StormSummary> {
  const options: StormOptions = { ...DEFAULT_OPTIONS, ...overrides };
  const { log } = options;
  installExitGuards();
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'simgate-chaos-'));
  const databaseUrl = `${process.env.CHAOS_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432'}/simgate_chaos_${Date.now()}_${process.pid}`;
  log(`chaos: seed ${options.seed}, ${options.customers} customers, up to ${options.purchases} purchases or ${Math.round(options.durationMs / 1000)} s; logs in ${runDir}`);

  const [redisPort, temporalPort] = [await freePort(), await freePort()];
  const redis = new PrivateRedis(redisPort);
  const temporal = new PersistedTemporal(temporalPort, path.join(runDir, 'temporal.db'));
  let simulator: Simulator | null = null;
  const services: NodeService[] = [];
  let migrated = false;
  try {
    const bundleFile = path.join(runDir, 'workflow-bundle.js');
    await Promise.all([
      buildWorkflowBundle().then((bundle) => writeFileSync(bundleFile, bundle.code)),
      applyMigrations(databaseUrl).then(() => {
        migrated = true;
      }),
      redis.start(),
      temporal.start(),
    ]);

    const webhookSecret = `chaos-webhook-${randomUUID()}`;
    let apiUrl = '';
    const webhookUrl = (providerId: string) => `${apiUrl}/webhooks/providers/${providerId}?secret=${webhookSecret}`;
    const lifetimeMs = options.lifetimeSeconds * 1000;
    const minCancelMs = options.minCancelSeconds * 1000;
    // Some numbers get a code on their own, so customers' cancels and expiries race real SMS.
    const autoSms = { probability: 0.2, minDelayMs: 1000, maxDelayMs: lifetimeMs + 5000 };
    const tenants: TenantConfig[] = [
      { id: 'activate', apiKey: 'chaos-activate-key', errorStyle: 'classic', lifetimeMs, minCancelMs, autoSms, seed: options.seed },
      fivesimTenant({ id: 'fivesim', lifetimeMs, minCancelMs, autoSms, seed: options.seed + 1 }),
    ];
    simulator = createSimulator({ tenants, logger: pino({ level: 'silent' }), sweepIntervalMs: 500 });
    const sim = await simulator.listen(0, '127.0.0.1');
    const control = (method: string, route: string, body?: unknown) => call(sim.url, method, `/control${route}`, { body, timeoutMs: 60_000 });
    const mustControl = async (method: string, route: string, body?: unknown) => {
      const reply = await control(method, route, body);
      if (reply.status >= 300) throw new Error(`simulator ${method} ${route}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply;
    };
    await mustControl('PUT', '/activate/offers/tg/16', { stock: 1_000_000, price: '0.30' });
    // One price: routing then follows each provider's delivery and error rates, so both get traffic.
    await mustControl('PUT', '/fivesim/offers/telegram/england', { stock: 1_000_000, price: '0.30' });
    for (const tenant of Object.keys(TENANTS)) await mustControl('PUT', `/${tenant}/balance`, { balance: '1000000' });

    const common = { lifetimeSeconds: options.lifetimeSeconds, minCancelSeconds: options.minCancelSeconds, requestTimeoutMs: options.requestTimeoutMs, usdRate: '1', markupBps: 2500, enabled: true };
    const providers: ProviderConfig[] = [
      { id: TENANTS.activate, displayName: 'SMS-Activate (chaos)', protocol: 'SMS_ACTIVATE', baseUrl: `${sim.url}/activate/stubs/handler_api.php`, apiKey: 'chaos-activate-key', countryIds: 'sms-activate', ...common },
      { id: TENANTS.fivesim, displayName: '5sim (chaos)', protocol: 'FIVESIM', baseUrl: `${sim.url}/fivesim/v1`, apiKey: FIVESIM_SIM_TOKEN, countryIds: 'fivesim', ...common },
    ];
    const adminEmail = `chaos-admin-${options.seed}@simgate.test`;
    const adminPassword = 'chaos-admin-password';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      DATA_DIR: runDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'simgate-chaos',
      WORKFLOW_BUNDLE: bundleFile,
      PROVIDERS_JSON: JSON.stringify(providers),
      PROVIDER_WEBHOOK_SECRET: webhookSecret,
      POLL_INITIAL_MS: '1000',
      POLL_MAX_MS: '5000',
      // A fault burst opens a provider's breaker; a short cooldown keeps the storm buying rather than waiting.
      HEALTH_COOLDOWN_MS: '5000',
      RECONCILE_EVERY_MS: String(options.reconcileEveryMs),
      ORPHAN_GRACE_MS: String(options.orphanGraceMs),
      JWT_TTL_SECONDS: '7200',
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: adminPassword,
      RATE_LIMIT_IP_POINTS: '10000000',
      RATE_LIMIT_USER_POINTS: '10000000',
      RATE_LIMIT_LOGIN_POINTS: '10000000',
      RATE_LIMIT_PURCHASE_POINTS: '10000000',
      // The worker's /metrics on any free port: a shared machine may have 9464 taken.
      WORKER_METRICS_PORT: '0',
    };

    // Reference data, offers from both tenants and the admin, once, before the storm.
    const container = await createContainer(loadConfig(env), { logger: pino({ level: 'silent' }) });
    try {
      const seeded = await seedCatalog(container);
      if (seeded.failed.length > 0) throw new Error(`catalog seed failed for ${seeded.failed.join(', ')}`);
      await container.auth.ensureAdmin(adminEmail, adminPassword);
    } finally {
      await container.close();
    }

    const worker = new NodeService('worker', 'src/bin/worker.ts', env, path.join(runDir, 'worker.log'), 'worker running');
    services.push(worker);
    const workerUp = worker.start();
    // The API's port is picked right before it binds, and picked again if someone took it meanwhile
    // (a free port is only a guess on a shared machine); the webhooks follow it.
    let api: NodeService | null = null;
    for (let attempt = 1; api === null; attempt++) {
      const port = await freePort();
      const candidate = new NodeService('api', 'src/bin/api.ts', { ...env, PORT: String(port) }, path.join(runDir, 'api.log'), 'api listening');
      try {
        await candidate.start();
        api = candidate;
        apiUrl = `http://127.0.0.1:${port}`;
      } catch (error) {
        candidate.close();
        if (attempt >= 3) throw error;
      }
    }
    services.push(api);
    await workerUp;
    for (const [tenant, providerId] of Object.entries(TENANTS)) await mustControl('PATCH', `/${tenant}/settings`, { webhookUrl: webhookUrl(providerId) });
    log('chaos: system up (API, worker, Temporal, Redis, simulator)');

    const login = await call(apiUrl, 'POST', '/api/auth/login', { body: { email: adminEmail, password: adminPassword } });
    if (login.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(login.body)}`);
    const adminToken = login.body.token as string;

    // ── The storm ──
    const started = Date.now();
    let purchasesStarted = 0;
    let storming = true;
    const stormOver = () => !storming || purchasesStarted >= options.purchases || Date.now() - started >= options.durationMs;
    const credited = new Map<string, bigint>();
    const purchases: { intent: Intent; activationId: string | null; refusal: string | null }[] = [];
    const actions: Record<string, number> = {};
    const faults: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0]));
    const wanted = new Map<NodeService, boolean>([
      [worker, true],
      [api, true],
    ]);
    const countAction = (name: string, reply: Reply) => {
      const label = `${name} ${reply.status}${reply.code ? ` ${reply.code}` : ''}`;
      actions[label] = (actions[label] ?? 0) + 1;
    };

    /** Restarts whatever died without being asked to (and keeps it up), so a crash costs availability, not the run. */
    const supervise = async () => {
      while (storming || [...wanted.keys()].some((service) => !service.running)) {
        for (const [service, up] of wanted) {
          if (up && !service.running) await service.start().catch((error: Error) => log(`chaos: ${service.name} restart failed: ${error.message}`));
        }
        if (!storming && [...wanted.keys()].every((service) => service.running)) return;
        await sleep(500);
      }
    };

    const customer = async (index: number) => {
      const random = seededRandom(options.seed * 1000 + index);
      const email = `chaos-${options.seed}-${index}-${randomUUID().slice(0, 8)}@simgate.test`;
      let registered: Reply = { status: 0, body: null, code: null };
      for (let attempt = 0; attempt < 30 && registered.status !== 201; attempt++) {
        registered = await call(apiUrl, 'POST', '/api/auth/register', { body: { email, password: 'chaos-customer-password' } });
        if (registered.status !== 201) await sleep(1000);
      }
      if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
      const userId = registered.body.user.id as string;
      const token = registered.body.token as string;
      const amount = 1_000_000_000n;
      const creditKey = `chaos-credit-${randomUUID()}`;
      let credit: Reply = { status: 0, body: null, code: null };
      for (let attempt = 0; attempt < 30 && credit.status !== 200; attempt++) {
        // Same key on every attempt: a credit whose answer was lost is not paid twice.
        credit = await call(apiUrl, 'POST', `/api/admin/wallets/${userId}/credit`, {
          token: adminToken,
          headers: { 'Idempotency-Key': creditKey },
          body: { amountMicros: amount.toString(), memo: 'chaos top-up' },
        });
        if (credit.status !== 200) await sleep(1000);
      }
      if (credit.status !== 200) throw new Error(`credit failed: ${credit.status} ${JSON.stringify(credit.body)}`);
      credited.set(userId, amount);

      const get = (id: string) => call(apiUrl, 'GET', `/api/numbers/${id}`, { token, timeoutMs: 10_000 });
      const waitFor = async (id: string, done: (activation: any) => boolean, timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const reply = await get(id);
          if (reply.status === 200 && done(reply.body.activation)) return reply.body.activation;
          await sleep(500);
        }
        return null;
      };
      const act = async (id: string, action: 'cancel' | 'retry' | 'finish') => {
        let reply: Reply = { status: 0, body: null, code: null };
        for (let attempt = 0; attempt < 20; attempt++) {
          reply = await call(apiUrl, 'POST', `/api/numbers/${id}/${action}`, { token });
          if (!shouldRetry(reply)) break;
          await sleep(1000);
        }
        countAction(action, reply);
        return reply;
      };
      /** The simulator sends an SMS to this number (found by phone in the tenant's own list). */
      const deliver = async (activation: { providerId: string | null; phone: string | null }) => {
        const tenant = activation.providerId ? PROVIDER_TENANT[activation.providerId] : undefined;
        if (!tenant || !activation.phone) return;
        const found = await control('GET', `/${tenant}/activations?phone=${encodeURIComponent(activation.phone)}`);
        const upstream = (found.body?.activations ?? []).at(-1);
        if (!upstream) return;
        const reply = await control('POST', `/${tenant}/activations/${upstream.id}/sms`, { code: String(random.int(100_000, 999_999)) });
        countAction('deliver-sms', reply);
      };

      while (!stormOver()) {
        purchasesStarted += 1;
        const intent = random.pick(INTENTS);
        const record = { intent, activationId: null as string | null, refusal: null as string | null };
        purchases.push(record);
        const key = `chaos-${randomUUID()}`;
        let reply: Reply = { status: 0, body: null, code: null };
        const buyDeadline = Date.now() + 120_000;
        while (Date.now() < buyDeadline) {
          reply = await call(apiUrl, 'POST', '/api/numbers', { token, headers: { 'Idempotency-Key': key }, body: { service: SERVICE, country: COUNTRY }, timeoutMs: 60_000 });
          if (!shouldRetry(reply)) break;
          await sleep(1000);
        }
        countAction('buy', reply);
        const bought = reply.status === 200 || reply.status === 201 ? reply.body.activation : null;
        if (!bought) {
          record.refusal = reply.code ?? `HTTP ${reply.status}`;
          continue;
        }
        record.activationId = bought.id;
        const activation = bought.status === 'RESERVED' ? await waitFor(bought.id, (a) => a.status !== 'RESERVED', 60_000) : bought;
        if (!activation || activation.status !== 'ACTIVE') continue;
        if (intent === 'cancel') {
          const wait = Date.parse(activation.cancelAllowedAt ?? '') - Date.now();
          if (wait > 0) await sleep(wait + 250);
          const cancelled = await act(activation.id, 'cancel');
          if (cancelled.code === 'SMS_ALREADY_RECEIVED') await act(activation.id, 'finish');
        } else if (intent === 'finish' || intent === 'another-sms') {
          await deliver(activation);
          const withSms = await waitFor(activation.id, (a) => a.messages.length > 0 || TERMINAL.has(a.status), 30_000);
          if (withSms?.status === 'ACTIVE' && intent === 'another-sms') {
            const again = await act(activation.id, 'retry');
            if (again.status === 200) {
              await deliver(activation);
              await waitFor(activation.id, (a) => a.messages.length > 1 || TERMINAL.has(a.status), 30_000);
            }
          }
          if (withSms?.status === 'ACTIVE') await act(activation.id, 'finish');
        }
        // 'expire': nothing; the number runs out at the provider and the workflow refunds.
      }
    };

    const faultRandom = seededRandom(options.seed);
    const weights: Record<FaultKind, number> = {
      'worker-kill': 3,
      'worker-kill-during-slow-buy': 3,
      'temporal-restart': 1,
      'redis-restart': 1,
      'provider-5xx-burst': 2,
      'provider-timeouts': 2,
      'provider-429': 2,
      'provider-slow': 1,
      'provider-sold-but-timed-out': 2,
    };
    const tenantNames = Object.keys(TENANTS) as Tenant[];
    const restartWorker = async (downMs: number) => {
      wanted.set(worker, false);
      await worker.kill();
      await sleep(downMs);
      wanted.set(worker, true);
      await worker.start().catch((error: Error) => log(`chaos: worker restart failed (${error.message}); the supervisor retries`));
    };
    const inject = async (kind: FaultKind) => {
      const tenant = faultRandom.pick(tenantNames);
      const at = `${((Date.now() - started) / 1000).toFixed(1)}s`;
      switch (kind) {
        case 'worker-kill':
          await restartWorker(faultRandom.int(200, 3000));
          break;
        case 'worker-kill-during-slow-buy': {
          // A buy that takes a while (under our timeout), then the worker dies while it waits.
          for (const name of tenantNames) await control('POST', `/${name}/faults`, { action: BUY_ACTION[name], times: 1, reply: { latencyMs: Math.round(options.requestTimeoutMs * 0.75) } });
          const deadline = Date.now() + 20_000;
          let hit = false;
          while (!hit && Date.now() < deadline && !stormOver()) {
            for (const name of tenantNames) {
              const list = await control('GET', `/${name}/faults`);
              if (!(list.body?.faults ?? []).some((fault: { action?: string; reply: Record<string, unknown> }) => fault.action === BUY_ACTION[name] && 'latencyMs' in fault.reply)) hit = true;
            }
            if (!hit) await sleep(100);
          }
          if (!hit) {
            log(`chaos: ${at} no buy reached the slow provider; plain worker kill instead`);
            kind = 'worker-kill';
          } else await sleep(Math.round(options.requestTimeoutMs * 0.3));
          await restartWorker(faultRandom.int(500, 2500));
          break;
        }
        case 'temporal-restart':
          await temporal.restart(faultRandom.int(500, 2500));
          break;
        case 'redis-restart':
          await redis.restart(faultRandom.int(300, 2000));
          break;
        case 'provider-5xx-burst':
          await control('POST', `/${tenant}/faults`, { times: faultRandom.int(3, 10), reply: { status: faultRandom.pick([500, 502, 503]), body: 'upstream outage' } });
          break;
        case 'provider-timeouts':
          await control('POST', `/${tenant}/faults`, { times: faultRandom.int(2, 5), reply: { hangUpAfterMs: options.requestTimeoutMs + 500 } });
          break;
        case 'provider-429':
          await control('POST', `/${tenant}/faults`, { times: faultRandom.int(3, 10), reply: { status: 429, body: 'api limit is 100 requests per second' } });
          break;
        case 'provider-slow': {
          await control('PATCH', `/${tenant}/settings`, { latencyMs: Math.round(options.requestTimeoutMs * 0.6) });
          await sleep(faultRandom.int(2000, 6000));
          await control('PATCH', `/${tenant}/settings`, { latencyMs: 0 });
          break;
        }
        case 'provider-sold-but-timed-out':
          await control('POST', `/${tenant}/faults`, { action: BUY_ACTION[tenant], times: faultRandom.int(1, 2), reply: { serveThenHangUpAfterMs: options.requestTimeoutMs + 500 } });
          break;
      }
      faults[kind] += 1;
      log(`chaos: ${at} ${kind}${kind.startsWith('provider') ? ` (${tenant})` : ''}`);
    };
    const faultLoop = async () => {
      const queue = [...options.firstFaults];
      while (!stormOver()) {
        await sleep(faultRandom.int(...options.faultGapMs));
        if (stormOver()) break;
        await inject(queue.shift() ?? faultRandom.weighted(weights));
      }
    };

    const supervisor = supervise();
    const progress = setInterval(() => log(`chaos: ${Math.round((Date.now() - started) / 1000)} s, ${purchasesStarted} purchases started`), 30_000);
    try {
      const results = await Promise.allSettled([faultLoop(), ...Array.from({ length: options.customers }, (_, index) => customer(index))]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } finally {
      clearInterval(progress);
      storming = false;
    }
    const stormMs = Date.now() - started;
    log(`chaos: storm over after ${Math.round(stormMs / 1000)} s and ${purchasesStarted} purchases; settling (up to ${Math.round(options.settleMs / 1000)} s)`);

    // ── Settle: faults off, everything up, then wait for the books to close ──
    for (const tenant of tenantNames) {
      await control('DELETE', `/${tenant}/faults`);
      await control('PATCH', `/${tenant}/settings`, { latencyMs: 0 });
    }
    await supervisor;
    const checkInput = { databaseUrl, simulatorUrl: sim.url, tenants: TENANTS, credited };
    const settleDeadline = Date.now() + options.settleMs;
    let checks = await inspect(checkInput);
    while (discrepancies(checks).length > 0 && Date.now() < settleDeadline) {
      await sleep(5000);
      checks = await inspect(checkInput);
    }

    const finals = new Map<string, string>();
    const byProvider: Record<string, number> = {};
    const { Client } = await import('pg');
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const ids = purchases.map((purchase) => purchase.activationId).filter((id): id is string => id !== null);
      for (const row of (await db.query<{ id: string; status: string; provider_id: string | null }>('SELECT id, status, provider_id FROM activations WHERE id = ANY($1)', [ids])).rows) {
        finals.set(row.id, row.status);
        const provider = row.provider_id ?? '(none)';
        byProvider[provider] = (byProvider[provider] ?? 0) + 1;
      }
    } finally {
      await db.end();
    }
    const outcomes: Record<string, Record<string, number>> = {};
    for (const purchase of purchases) {
      const outcome = purchase.activationId ? (finals.get(purchase.activationId) ?? 'NOT_RECORDED') : `refused ${purchase.refusal}`;
      const row = (outcomes[purchase.intent] ??= {});
      row[outcome] = (row[outcome] ?? 0) + 1;
    }
    const summary: StormSummary = {
      seed: options.seed,
      runDir,
      stormMs,
      purchasesStarted,
      purchasesPerMinute: Math.round((purchasesStarted / stormMs) * 60_000),
      outcomes,
      actions,
      faults,
      byProvider,
      unplannedExits: Object.fromEntries(services.map((service) => [service.name, service.unplannedExits])),
      checks,
      discrepancies: discrepancies(checks),
    };
    return summary;
  } finally {
    for (const service of services) await service.stop().catch(() => undefined);
    for (const service of services) service.close();
    await simulator?.close().catch(() => undefined);
    await temporal.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    killAll();
    if (migrated && !options.keepArtifacts) await dropDatabase(databaseUrl).catch(() => undefined);
    if (!options.keepArtifacts) rmSync(path.join(runDir, 'temporal.db'), { force: true });
  }
}

export function formatSummary(summary: StormSummary): string {
  const lines: string[] = [];
  const table = (title: string, rows: [string, string | number | bigint][]) => {
    lines.push('', title);
    const width = Math.max(...rows.map(([label]) => label.length), 10);
    for (const [label, value] of rows) lines.push(`  ${label.padEnd(width)}  ${String(value).padStart(8)}`);
  };
  lines.push(
    `chaos summary — seed ${summary.seed}: ${summary.purchasesStarted} purchases in ${Math.round(summary.stormMs / 1000)} s (${summary.purchasesPerMinute}/min); logs ${summary.runDir}`,
  );
  const outcomeNames = [...new Set(Object.values(summary.outcomes).flatMap((row) => Object.keys(row)))].sort();
  lines.push('', 'Purchases by intent × outcome');
  lines.push(`  ${'intent'.padEnd(12)}${outcomeNames.map((name) => name.padStart(Math.max(10, name.length + 2))).join('')}`);
  for (const intent of INTENTS) {
    const row = summary.outcomes[intent] ?? {};
    lines.push(`  ${intent.padEnd(12)}${outcomeNames.map((name) => String(row[name] ?? 0).padStart(Math.max(10, name.length + 2))).join('')}`);
  }
  table('Purchases recorded, by provider', Object.entries(summary.byProvider));
  table('Faults injected', Object.entries(summary.faults));
  table('Unplanned process exits (restarted by the harness)', Object.entries(summary.unplannedExits));
  table('Customer calls and answers', Object.entries(summary.actions).sort(([a], [b]) => a.localeCompare(b)));
  const c = summary.checks;
  table('Money', [
    ['customer wallets', c.wallets],
    ['wallet ≠ its ledger', c.walletLedgerMismatches],
    ['credits ≠ what the harness credited', c.creditMismatches],
    ['wallets with lost/duplicated micros', c.centsDiscrepancyWallets],
    ['lost/duplicated micros (sum |Δ|)', c.centsDiscrepancyMicros],
    ['wrong settlements (charge ≠ SMS)', c.wrongSettlements],
    ['open holds on terminal activations', c.openHoldsOnTerminal],
    ['open holds (any)', c.openHolds],
    ['activations not terminal', c.stuckActivations],
  ]);
  table('Upstream numbers (simulator ⇄ activations ⇄ incidents)', [
    ['sold by the simulator', c.upstreamSold],
    ['recorded and settled', c.recordedAndSettled],
    ['recorded, not settled', c.recordedUnsettled],
    ['reconciled by an incident', c.reconciledByIncident],
    ['unrecorded, cancelled at provider', c.cancelledUnrecorded],
    ['ORPHANS', c.orphans],
    ['  of which charged (got an SMS)', c.orphansCharged],
    ['  of which expired at the provider', c.orphansExpiredAtProvider],
    ['  of which still open upstream', c.orphansStillOpen],
    ['recorded by several activations', c.duplicateRecords],
    ['recorded, never sold (phantom)', c.phantomRecords],
  ]);
  table('SMS', [
    ['delivered by the simulator', c.smsDelivered],
    ['reached the customer', c.smsReachedCustomer],
    ['reached an incident', c.smsReachedIncident],
    ['LOST', c.smsLost],
  ]);
  for (const [kind, list] of Object.entries(c.examples)) lines.push('', `e.g. ${kind}:`, ...list.map((item) => `  ${item}`));
  lines.push('', summary.discrepancies.length === 0 ? 'RESULT: clean — no discrepancy' : `RESULT: ${summary.discrepancies.length} kinds of discrepancy: ${summary.discrepancies.join(', ')}`);
  return lines.join('\n');
}

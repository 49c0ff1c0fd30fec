import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig, type AppConfig } from '../src/config/app.config';
import type { ProviderConfig } from '../src/config/providers.config';
import { createContainer, type Container } from '../src/container';
import { applyMigrations, dropDatabase } from '../src/db/migrate';
import { startActivationWorker, startApi, startInboxSupervisor, seedCatalog, type RunningApi } from '../src/runtime';
import { createSimulator, type Simulator, type TenantConfig } from '../src/simulator';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { buildWorkflowBundle } from '../src/temporal/worker';
import { NodeService } from '../test/chaos/processes';
import type { WorkerHandle } from '../src/temporal/worker';

/**
 * The whole SimGate back end for the bench, in this process: a fresh PostgreSQL database, an
 * in-memory Temporal dev server, the provider simulator behind a request-counting front, and one
 * or more "stacks" (container + worker + API) on free ports. Modelled on test/support/system.ts,
 * which needs jest's global setup (env file, prebuilt bundle path) and so is not reused directly.
 */

/** Simulator tenant id → provider id as SimGate knows it (same as src/bin/dev.ts and the tests). */
export const TENANT_PROVIDER: Record<string, string> = { hero: 'hero-sim', activate: 'activate-sim' };
export const PROVIDER_TENANT: Record<string, string> = Object.fromEntries(Object.entries(TENANT_PROVIDER).map(([t, p]) => [p, t]));

/** What the bench buys: Telegram in Indonesia, sold by both tenants (SMS-Activate and HeroSMS id 6). */
export const SERVICE = 'tg';
export const COUNTRY_ISO = 'ID';
const UPSTREAM_COUNTRY = '6';

export interface Infra {
  databaseUrl: string;
  temporal: DevServer;
  workflowCode: string;
  stop(): Promise<void>;
}

/** Database (migrated), Temporal dev server and the workflow bundle, built in parallel. */
export async function startInfra(): Promise<Infra> {
  const base = process.env.BENCH_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432';
  const databaseUrl = `${base}/simgate_bench_${Date.now()}`;
  const [bundle, migrated, temporal] = await Promise.allSettled([
    buildWorkflowBundle(),
    applyMigrations(databaseUrl),
    startDevServer({ headless: true, fast: true }),
  ]);
  const stop = async () => {
    if (temporal.status === 'fulfilled') await temporal.value.stop().catch(() => undefined);
    if (migrated.status === 'fulfilled') await dropDatabase(databaseUrl).catch(() => undefined);
  };
  const failed = [bundle, migrated, temporal].find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    databaseUrl,
    temporal: (temporal as PromiseFulfilledResult<DevServer>).value,
    workflowCode: (bundle as PromiseFulfilledResult<{ code: string }>).value.code,
    stop,
  };
}

export interface UpstreamCall {
  /** performance.now() when the request reached the simulator. */
  at: number;
  tenant: string;
  action: string;
  /** The activation id the call names (getStatus, setStatus), if any. */
  id: string | null;
}

export interface BenchSimulator {
  simulator: Simulator;
  url: string;
  /** Every handler_api request seen, in arrival order. */
  calls: UpstreamCall[];
  /** performance.now() of the latest getStatus for this upstream id, or -Infinity. */
  lastStatusAt(upstreamId: string): number;
  /** performance.now() of the latest getActiveActivations (an inbox poll) of this tenant, or -Infinity. */
  lastListAt(tenant: string): number;
  setWebhook(url: ((providerId: string) => string) | null): Promise<void>;
  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * The simulator, not listening itself but served through a plain http.Server that notes every
 * handler_api request before handing it to the simulator's Express app — the simulator keeps no
 * request counter, and this needs no change to it or to the provider adapter.
 */
export async function startSimulator(): Promise<BenchSimulator> {
  const tenants: TenantConfig[] = [
    { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0, balanceMicros: 10n ** 15n },
    { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: 0, balanceMicros: 10n ** 15n },
  ];
  const simulator = createSimulator({ tenants, sweepIntervalMs: 0 });
  const calls: UpstreamCall[] = [];
  const lastStatus = new Map<string, number>();
  const lastList = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const match = /^\/([a-z0-9-]+)\/stubs\/handler_api\.php$/.exec(url.pathname);
    if (match) {
      const at = performance.now();
      const action = url.searchParams.get('action') ?? '?';
      const id = url.searchParams.get('id');
      calls.push({ at, tenant: match[1], action, id });
      if (action === 'getStatus' && id) lastStatus.set(id, at);
      if (action === 'getActiveActivations') lastList.set(match[1], at);
    }
    simulator.app(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const control = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}/control${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  // Plenty of stock, so no level of the bench runs a provider dry.
  for (const tenant of tenants) await control('PUT', `/${tenant.id}/offers/${SERVICE}/${UPSTREAM_COUNTRY}`, { stock: 1_000_000 });

  return {
    simulator,
    url,
    calls,
    lastStatusAt: (id) => lastStatus.get(id) ?? Number.NEGATIVE_INFINITY,
    lastListAt: (tenant) => lastList.get(tenant) ?? Number.NEGATIVE_INFINITY,
    async setWebhook(webhookUrlFor) {
      for (const tenant of tenants) {
        await control('PATCH', `/${tenant.id}/settings`, { webhookUrl: webhookUrlFor ? webhookUrlFor(TENANT_PROVIDER[tenant.id]) : null });
      }
    },
    control,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await simulator.close();
    },
  };
}

export interface HttpReply<T = any> {
  status: number;
  body: T;
}

export interface Stack {
  label: string;
  config: Readonly<AppConfig>;
  container: Container;
  /** The in-process worker; null when the stack's workers are separate processes. */
  worker: WorkerHandle | null;
  /** Separate worker processes (`workerProcesses`): their pids, for the resource meter. */
  workerPids: number[];
  api: RunningApi;
  adminToken: string;
  request<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<HttpReply<T>>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'bench-admin-password';

/**
 * Container + activation worker(s) + API against the shared database, Temporal and simulator, on
 * its own task queue. As in production: the per-activation fallback polling and the provider
 * inboxes (one poller per provider, started by the inbox supervisor) run with the configured
 * defaults unless overridden; `inbox: false` leaves the inboxes off. `workers` > 1 runs several
 * workers on the one task queue (each with its own connection), as several processes would.
 */
export async function startStack(options: {
  label: string;
  infra: Infra;
  simulatorUrl: string;
  webhookSecret: string;
  adminEmail: string;
  provider?: Partial<ProviderConfig>;
  polling?: { initialMs: number; maxMs: number };
  inbox?: boolean;
  workers?: number;
  /** Instead of in-process workers: this many `src/bin/worker.ts` processes, as a deployment runs them. */
  workerProcesses?: number;
  /** Settings over the bench's own (WORKER_* tuning, say), for this stack and its worker processes. */
  env?: Record<string, string>;
}): Promise<Stack> {
  const providers: ProviderConfig[] = Object.entries(TENANT_PROVIDER).map(([tenant, id]) => ({
    id,
    displayName: `Simulated ${tenant}`,
    enabled: true,
    protocol: 'SMS_ACTIVATE',
    baseUrl: `${options.simulatorUrl}/${tenant}/stubs/handler_api.php`,
    apiKey: `sim-${tenant}-key`,
    usdRate: '1',
    markupBps: 2500,
    lifetimeSeconds: 1200,
    minCancelSeconds: 0,
    requestTimeoutMs: 10_000,
    countryIds: tenant === 'hero' ? 'herosms' : 'sms-activate',
    ...options.provider,
  }));
  const source: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.infra.databaseUrl,
    TEMPORAL_ADDRESS: options.infra.temporal.address,
    TEMPORAL_TASK_QUEUE: `simgate-bench-${options.label}-${randomUUID()}`,
    PROVIDERS_JSON: JSON.stringify(providers),
    PROVIDER_WEBHOOK_SECRET: options.webhookSecret,
    ...(options.polling ? { POLL_INITIAL_MS: String(options.polling.initialMs), POLL_MAX_MS: String(options.polling.maxMs) } : {}),
    ADMIN_EMAIL: options.adminEmail,
    ADMIN_PASSWORD,
    // The limiters stay in the request path (their Redis round trips are part of the cost), but
    // with this run's own keys and limits far above what one bench client on 127.0.0.1 sends.
    RATE_LIMIT_PREFIX: `sg-bench:${randomUUID()}`,
    RATE_LIMIT_IP_POINTS: '100000000',
    RATE_LIMIT_USER_POINTS: '100000000',
    RATE_LIMIT_LOGIN_POINTS: '100000000',
    RATE_LIMIT_PURCHASE_POINTS: '100000000',
    ...options.env,
  };
  const config = loadConfig(source);

  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const container = await createContainer(config);
    stops.push(() => container.close());
    await seedCatalog(container);
    await container.auth.ensureAdmin(config.env.ADMIN_EMAIL, ADMIN_PASSWORD);
    const workers: WorkerHandle[] = [];
    const processes: NodeService[] = [];
    if (options.workerProcesses) {
      const env = workerProcessEnv(source, options.infra, options.label);
      for (let i = 0; i < options.workerProcesses; i++) {
        const worker = new NodeService(`worker-${i + 1}`, 'src/bin/worker.ts', env, path.join(BENCH_TMP, `${options.label}-worker-${i + 1}.log`), 'worker running');
        processes.push(worker);
        stops.push(async () => {
          await worker.stop();
          worker.close();
        });
      }
      await Promise.all(processes.map((worker) => worker.start()));
    } else {
      for (let i = 0; i < Math.max(1, options.workers ?? 1); i++) {
        const handle = await startActivationWorker(container, { workflowBundle: { code: options.infra.workflowCode } });
        workers.push(handle);
        stops.push(() => handle.shutdown());
      }
    }
    const worker = workers[0] ?? null;
    if (options.inbox !== false) {
      const supervisor = startInboxSupervisor(container);
      stops.push(async () => supervisor.stop());
      await supervisor.check();
    }
    const api = await startApi(container, { port: 0, host: '127.0.0.1' });
    stops.push(() => api.close());

    const request: Stack['request'] = async (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      const text = await response.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body };
    };
    const login = await request('POST', '/api/auth/login', { body: { email: config.env.ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    if (login.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(login.body)}`);
    return { label: options.label, config, container, worker, workerPids: processes.map((p) => p.pid!), api, adminToken: login.body.token as string, request, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const BENCH_TMP = path.resolve(__dirname, '../.tmp');

/**
 * `npm run worker`'s environment for a stack's worker processes: the stack's settings and the
 * bench's bundle, no metrics port of their own, and INFO so the chaos harness's NodeService sees
 * its ready line ("worker running").
 */
function workerProcessEnv(source: NodeJS.ProcessEnv, infra: Infra, label: string): NodeJS.ProcessEnv {
  mkdirSync(BENCH_TMP, { recursive: true });
  const bundlePath = path.join(BENCH_TMP, `bench-workflow-bundle-${label}.js`);
  writeFileSync(bundlePath, infra.workflowCode);
  return { ...source, WORKFLOW_BUNDLE: bundlePath, WORKER_METRICS_PORT: '0', TEMPORAL_SDK_METRICS_PORT: '0', LOG_LEVEL: 'info' };
}

export interface Customer {
  id: string;
  token: string;
}

/** Registers customers through the API and credits each through the admin API (a few at a time: scrypt is costly). */
export async function createCustomers(stack: Stack, count: number, creditMicros: bigint): Promise<Customer[]> {
  const customers: Customer[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const index = next++;
        if (index >= count) return;
        const email = `bench-${index}-${randomUUID()}@simgate.test`;
        const registered = await stack.request('POST', '/api/auth/register', { body: { email, password: 'bench-customer-password' } });
        if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
        const user = registered.body.user as { id: string };
        const credit = await stack.request('POST', `/api/admin/wallets/${user.id}/credit`, {
          token: stack.adminToken,
          headers: { 'Idempotency-Key': `bench-credit-${randomUUID()}` },
          body: { amountMicros: creditMicros.toString(), memo: 'bench top-up' },
        });
        if (credit.status !== 200) throw new Error(`credit failed: ${credit.status} ${JSON.stringify(credit.body)}`);
        customers[index] = { id: user.id, token: registered.body.token as string };
      }
    }),
  );
  return customers;
}

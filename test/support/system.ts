import { randomInt, randomUUID } from 'node:crypto';
import { loadConfig, type AppConfig } from '../../src/config/app.config';
import type { ProviderConfig } from '../../src/config/providers.config';
import { createContainer, type Container } from '../../src/container';
import { createLogger } from '../../src/lib/logger';
import type { DestinationStream } from 'pino';
import { seedCatalog, startActivationWorker, startApi, type ActivationWorker, type RunningApi } from '../../src/runtime';
import { createSimulator, type Simulator, type TenantConfig } from '../../src/simulator';
import { WORKFLOW_BUNDLE_FILE } from './paths';

export interface SystemOptions {
  /** Simulator tenants; defaults to two (hero + classic) with the webhook pointing at our API. */
  tenants?: (webhookUrlFor: (providerId: string) => string) => TenantConfig[];
  /** Provider config overrides by provider id (lifetime, min cancel …). */
  providers?: Partial<Record<string, Partial<ProviderConfig>>>;
  polling?: { initialMs: number; maxMs: number };
  env?: Record<string, string>;
  /** Serve the built web app at / and the admin panel at /admin/ (npm run build:ui first): the e2e tests. */
  serveUi?: boolean;
  /** The API's port (default: a free one), for tests that must know the API's URL before it starts (processor callbacks). */
  apiPort?: number;
  /** Where the system's logs go (at LOG_LEVEL), for tests that read them; none by default. */
  logDestination?: DestinationStream;
  /**
   * Serve the worker's /metrics on a free port (worker.metrics.url). The Temporal SDK's metrics are
   * in it only when this system's worker is the first of its test file (one SDK runtime per process).
   */
  workerMetrics?: boolean;
}

export interface TestSystem {
  config: Readonly<AppConfig>;
  container: Container;
  simulator: Simulator;
  simulatorUrl: string;
  api: RunningApi;
  worker: ActivationWorker;
  adminToken: string;
  request<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: T; headers: Headers }>;
  /** A new customer with a wallet credited through the admin API. */
  customer(creditMicros?: bigint): Promise<{ id: string; email: string; token: string }>;
  sim<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Simulator tenant id → provider id as the API knows it. */
export const TENANT_PROVIDER: Record<string, string> = { hero: 'hero-sim', activate: 'activate-sim' };

/**
 * A service and country both of the system's providers list in stock (none that the purchase
 * tests buy), which the system's simulator has now run out of: buying it fails NO_NUMBERS at
 * every provider. Other systems' simulators keep theirs (the offers table is shared; stock lives
 * in each simulator).
 */
export async function soldOutPair(system: TestSystem): Promise<{ service: string; country: string }> {
  const [pair] = await system.container.db.$queryRaw<{ service: string; country: string }[]>`
    SELECT service_code AS service, country_iso AS country FROM offers
    WHERE provider_id IN ('hero-sim', 'activate-sim') AND stock > 0
      AND (service_code, country_iso) NOT IN (('wa', 'ID'), ('tg', 'GB'), ('tg', 'ID'))
    GROUP BY 1, 2 HAVING COUNT(*) = 2 ORDER BY 1, 2 LIMIT 1`;
  // Other tests' providers may list the pair too; this system sells only from its own (CatalogService `sellers`).
  const offers = await system.container.db.offer.findMany({
    where: { serviceCode: pair.service, countryIso: pair.country, stock: { gt: 0 }, providerId: { in: Object.values(TENANT_PROVIDER) } },
  });
  if (offers.length !== 2) throw new Error(`expected both simulated providers to list ${pair.service}/${pair.country}`);
  for (const offer of offers) {
    const tenant = Object.entries(TENANT_PROVIDER).find(([, p]) => p === offer.providerId)![0];
    await system.sim('PUT', `/control/${tenant}/offers/${offer.upstreamService}/${offer.upstreamCountry}`, { stock: 0 });
  }
  return pair;
}

/**
 * Every system of a run writes to the same database under the same provider ids, so each
 * simulator hands out upstream ids from its own random range of 10 000 (2^30 ranges: a clash
 * between the few dozen systems of a run is a one-in-millions event). Not a per-process
 * counter: Jest re-evaluates this module for every test file a worker runs.
 */
const firstActivationId = () => 3_400_000_001 + randomInt(2 ** 30) * 10_000;

/**
 * A system whose SMS arrive by the providers' webhooks: both tenants post to our API, and the
 * first fallback poll is a minute away, so a test sees an SMS in time only if the webhook worked.
 */
export function startWebhookSystem(options: Omit<SystemOptions, 'tenants' | 'polling'> = {}): Promise<TestSystem> {
  return startSystem({
    ...options,
    polling: { initialMs: 60_000, maxMs: 60_000 },
    tenants: (webhookUrlFor) => [
      { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0, webhookUrl: webhookUrlFor('hero-sim') },
      { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: 0, webhookUrl: webhookUrlFor('activate-sim') },
    ],
  });
}

/**
 * The whole SimGate back end in-process on free ports: simulator, API, worker — against the
 * run's PostgreSQL database and Temporal dev server (test/support/global-setup.ts). Each system
 * has its own task queue so leftovers of another test file never reach this worker.
 */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const webhookSecret = `test-webhook-secret-${randomUUID()}`;
  let apiUrl = '';
  const webhookUrlFor = (providerId: string) => `${apiUrl}/webhooks/providers/${providerId}?secret=${webhookSecret}`;
  // The webhook URL is known only once the API listens: tenants read it lazily via settings below.
  const tenants = options.tenants?.(webhookUrlFor) ?? [
    { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero' as const, minCancelMs: 0 },
    { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic' as const, minCancelMs: 0 },
  ];
  const simulator = createSimulator({ tenants, sweepIntervalMs: 200, firstActivationId: firstActivationId() });
  const sim = await simulator.listen(0);

  const providers: ProviderConfig[] = tenants.map((tenant) => {
    const id = TENANT_PROVIDER[tenant.id] ?? tenant.id;
    return {
      id,
      displayName: `Simulated ${tenant.id}`,
      enabled: true,
      protocol: 'SMS_ACTIVATE',
      baseUrl: `${sim.url}/${tenant.id}/stubs/handler_api.php`,
      apiKey: tenant.apiKey,
      usdRate: '1',
      markupBps: 2500,
      lifetimeSeconds: 1200,
      minCancelSeconds: 0,
      requestTimeoutMs: 5000,
      countryIds: tenant.errorStyle === 'hero' ? 'herosms' : 'sms-activate',
      ...options.providers?.[id],
    };
  });

  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    TEMPORAL_TASK_QUEUE: `simgate-test-${randomUUID()}`,
    PROVIDERS_JSON: JSON.stringify(providers),
    PROVIDER_WEBHOOK_SECRET: webhookSecret,
    POLL_INITIAL_MS: String(options.polling?.initialMs ?? 500),
    POLL_MAX_MS: String(options.polling?.maxMs ?? 2000),
    ADMIN_EMAIL: `admin-${randomUUID()}@simgate.test`,
    ADMIN_PASSWORD: 'admin-password',
    // Every system gets its own rate-limit / lockout keys in the shared Redis, and limits far above
    // what tests send (they poll); security tests pass small ones through options.env.
    RATE_LIMIT_PREFIX: `sg-test:${randomUUID()}`,
    RATE_LIMIT_IP_POINTS: '1000000',
    RATE_LIMIT_USER_POINTS: '1000000',
    RATE_LIMIT_API_KEY_POINTS: '1000000',
    RATE_LIMIT_LOGIN_POINTS: '1000000',
    RATE_LIMIT_PURCHASE_POINTS: '1000000',
    RATE_LIMIT_WEBHOOK_POINTS: '1000000',
    ...options.env,
  });
  const container = await createContainer(config, options.logDestination ? { logger: createLogger(config.env.LOG_LEVEL, 'simgate', options.logDestination) } : {});
  await seedCatalog(container);
  await container.auth.ensureAdmin(config.env.ADMIN_EMAIL, config.env.ADMIN_PASSWORD);
  const worker = await startActivationWorker(container, { workflowBundle: { codePath: WORKFLOW_BUNDLE_FILE }, metrics: options.workerMetrics ? { host: '127.0.0.1', port: 0 } : undefined });
  const api = await startApi(container, { port: options.apiPort ?? 0, host: '127.0.0.1', serveUi: options.serveUi });
  apiUrl = api.url;
  for (const tenant of tenants) {
    if (tenant.webhookUrl === undefined) continue;
    // Tenants created with a webhook get the real URL now that the API listens.
    await fetch(`${sim.url}/control/${tenant.id}/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ webhookUrl: tenant.webhookUrl === null ? null : webhookUrlFor(TENANT_PROVIDER[tenant.id] ?? tenant.id) }),
    });
  }

  const request: TestSystem['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = headers['content-type'] ?? 'application/json';
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // non-JSON bodies are returned as text
    }
    return { status: response.status, body, headers: response.headers };
  };

  const login = await request('POST', '/api/auth/login', { body: { email: config.env.ADMIN_EMAIL, password: config.env.ADMIN_PASSWORD } });
  const adminToken = login.body.token as string;

  return {
    config,
    container,
    simulator,
    simulatorUrl: sim.url,
    api,
    worker,
    adminToken,
    request,
    async customer(creditMicros = 10_000_000n) {
      const email = `customer-${randomUUID()}@simgate.test`;
      const registered = await request('POST', '/api/auth/register', { body: { email, password: 'customer-password' } });
      if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
      const user = registered.body.user as { id: string };
      if (creditMicros > 0n) {
        const credit = await request('POST', `/api/admin/wallets/${user.id}/credit`, {
          token: adminToken,
          headers: { 'Idempotency-Key': `test-credit-${randomUUID()}` },
          body: { amountMicros: creditMicros.toString(), memo: 'test top-up' },
        });
        if (credit.status !== 200) throw new Error(`credit failed: ${JSON.stringify(credit.body)}`);
      }
      return { id: user.id, email, token: registered.body.token as string };
    },
    async sim(method, path, body) {
      const response = await fetch(`${sim.url}${path}`, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await response.json()) as any;
    },
    async stop() {
      await api.close();
      await worker.shutdown();
      // The simulator goes away with this system: later test files must not be offered its numbers.
      await container.db.provider.updateMany({ where: { id: { in: providers.map((p) => p.id) } }, data: { enabled: false } });
      await container.close();
      await simulator.close();
    },
  };
}

/**
 * Shared setup for the workflow tests (jest project "workflows"). Everything here is real: the
 * activities from createActivities over a Prisma client on the run's database, the wallet and
 * catalog services, Redis, and the provider simulator spoken to over HTTP by the real
 * SMS-Activate adapter. Nothing of ours is mocked. The Temporal side (servers, workers, Jest
 * hooks) is harness.ts.
 *
 * Isolation: each test gets its own simulator, its own provider ids (so upstream ids, which
 * every simulator numbers from the same start, never collide in `activations`), its own task
 * queue and workflow ids. The run's database is shared by the test files that run in band, so
 * a scenario takes other providers' offers for its (service, country) off sale when it starts
 * (every file syncs its own providers' offers when it starts) and disables its own providers
 * when it stops, so no later file is offered numbers from a simulator that is gone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { CatalogService } from '../../src/catalog/catalog.service';
import { referenceCountries, referenceServices } from '../../src/catalog/reference-data';
import { providerConfigSchema, type ProviderConfig } from '../../src/config/providers.config';
import { createDb, type Db } from '../../src/db/client';
import { createLogger } from '../../src/lib/logger';
import { developmentKeyring, SecretBox } from '../../src/lib/secrets';
import { redisActivationEvents, type ActivationEventPublisher } from '../../src/activations/live-events';
import { SmsIntake } from '../../src/activations/sms-intake';
import { AuditLog } from '../../src/lib/audit';
import { PartnerWebhookService } from '../../src/auth/partner-webhooks.service';
import { IncidentService } from '../../src/providers/incidents.service';
import { createProviderRegistry, syncProviderRows, type ProviderRegistry } from '../../src/providers/registry';
import { createSimulator, type Simulator, type TenantConfig } from '../../src/simulator';
import { WalletService } from '../../src/wallet';
import {
  getActivationQuery,
  type ActivationInput,
  type ActivationView,
  type IncomingSms,
} from '../../workflows/contracts';
import { waitFor } from '../support/wait';

export { waitFor };

/** Every activation in these tests buys Telegram in Indonesia: both simulator tenants always sell it (country id 6 in both numberings). */
export const SERVICE = 'tg';
export const COUNTRY = 'ID';
const UPSTREAM_COUNTRY = '6';

export type TenantId = 'hero' | 'activate';
export const TENANTS: readonly TenantId[] = ['hero', 'activate'];

/**
 * Upstream prices set in the simulator before the catalog sync. With the default 25 % markup
 * and rounding up to a cent: hero 0.100 → sells at 0.13, activate 0.200 → sells at 0.25.
 */
export const UPSTREAM_PRICE: Record<TenantId, string> = { hero: '0.100', activate: '0.200' };
export const SELL_MICROS: Record<TenantId, bigint> = { hero: 130_000n, activate: 250_000n };

/** Customers start with $10. */
export const CREDIT = 10_000_000n;

let runtimeInstalled = false;
/** The SDK logs every worker state change at INFO; keep the test output to warnings. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    // Activity failures are the point of several tests (NO_NUMBERS, 5xx, refusals) and are
    // asserted from the history; everything else at WARN and above is shown. Core's own lines go
    // to the console directly; its WARN about the test server's missing heartbeat-details
    // capability says nothing about SimGate.
    const logger = new DefaultLogger('WARN', (entry) => {
      if (entry.message === 'Activity failed') return;
      process.stderr.write(`[temporal ${entry.level}] ${entry.message} ${entry.meta ? JSON.stringify(entry.meta, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : ''}\n`);
    });
    Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  } catch {
    // A runtime already exists in this process: keep it.
  }
}

/**
 * Runs every teardown step even when one fails, then rethrows the first failure: a step that
 * throws (a database already gone, say) must not leave the next connection open, or Jest
 * never exits.
 */
export async function closeAll(...steps: (() => Promise<unknown> | undefined)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

// ─── Long-lived dependencies (one set per test file) ──────────────────────────────────────────

export interface Infra {
  db: Db;
  redis: Redis;
  events: ActivationEventPublisher;
  wallet: WalletService;
  catalog: CatalogService;
  close(): Promise<void>;
}

export async function openInfra(): Promise<Infra> {
  const db = createDb(process.env.DATABASE_URL!, { max: 10 });
  const redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const wallet = new WalletService({ db });
  const catalog = new CatalogService({ db });
  try {
    await redis.connect();
    // Idempotent but slow (thousands of rows): only the first file of a run needs it.
    const [services, countries] = await Promise.all([db.service.count(), db.country.count()]);
    if (services < referenceServices.length || countries < referenceCountries.length) await catalog.seedReference();
  } catch (error) {
    redis.disconnect();
    await db.$disconnect();
    throw error;
  }
  return {
    db,
    redis,
    events: redisActivationEvents(redis, 'simgate-workflow-tests'),
    wallet,
    catalog,
    async close() {
      await redis.quit();
      await db.$disconnect();
    },
  };
}

/** A user with a wallet credited with `credit` micro-dollars. */
export async function newCustomer(infra: Infra, credit = CREDIT): Promise<string> {
  const user = await infra.db.user.create({ data: { email: `wf-${randomUUID()}@simgate.test`, passwordHash: 'x' } });
  await infra.wallet.ensureWallet(user.id);
  await infra.wallet.credit({ userId: user.id, amountMicros: credit, idempotencyKey: `wf-credit:${randomUUID()}`, memo: 'test top-up' });
  return user.id;
}

// ─── Providers: one simulator per test ────────────────────────────────────────────────────────

export interface ScenarioOptions {
  /** Provider config overrides (lifetime, minimum cancel delay …), per tenant. */
  providers?: Partial<Record<TenantId, Partial<ProviderConfig>>>;
  /** Simulator tenant settings at creation, per tenant. */
  tenants?: Partial<Record<TenantId, Partial<TenantConfig>>>;
  /** The activities' clock (time-skipping tests pass the test server's). */
  now?: () => number;
  /** The Temporal client the activities signal workflows with (the provider inbox does). */
  temporal?: Client;
}

export interface Scenario {
  simulator: Simulator;
  simulatorUrl: string;
  configs: ProviderConfig[];
  registry: ProviderRegistry;
  /** Provider id (as the catalog and the workflow know it) of a tenant. */
  providerId: Record<TenantId, string>;
  tenantOf(providerId: string): TenantId;
  activities: ReturnType<typeof createActivities>;
  /** The control API, over HTTP. Throws on a non-2xx answer unless `allowError`. */
  control<T = any>(method: string, path: string, body?: unknown, options?: { allowError?: boolean }): Promise<{ status: number; body: T }>;
  setOffer(tenant: TenantId, offer: { stock?: number; price?: string }): Promise<void>;
  fault(tenant: TenantId, fault: { action?: string; times: number; reply: Record<string, unknown> }): Promise<void>;
  faults(tenant: TenantId): Promise<unknown[]>;
  settings(tenant: TenantId, patch: Record<string, unknown>): Promise<void>;
  upstream(tenant: TenantId, upstreamId: string): Promise<UpstreamView>;
  upstreamList(tenant: TenantId): Promise<UpstreamView[]>;
  /** An SMS arrives at the provider; `delivered` is false when the provider was no longer waiting (409 NOT_WAITING). */
  deliverSms(tenant: TenantId, upstreamId: string, code: string): Promise<{ delivered: boolean; body: any }>;
  close(): Promise<void>;
}

export interface UpstreamView {
  id: number;
  state: 'WAIT' | 'READY' | 'GOT_CODE' | 'WAIT_RETRY' | 'DONE' | 'CANCELLED';
  codes: string[];
}

export async function startScenario(infra: Infra, options: ScenarioOptions = {}): Promise<Scenario> {
  const suffix = randomBytes(4).toString('hex');
  const providerId = { hero: `wf-hero-${suffix}`, activate: `wf-activate-${suffix}` } as Record<TenantId, string>;
  const tenants: TenantConfig[] = [
    { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: 0, ...options.tenants?.hero },
    { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: 0, ...options.tenants?.activate },
  ];
  const simulator = createSimulator({ tenants, sweepIntervalMs: 200, logger: createLogger('silent', 'simulator') });
  const { url: simulatorUrl } = await simulator.listen(0);

  const configs = TENANTS.map((tenant) =>
    providerConfigSchema.parse({
      id: providerId[tenant],
      displayName: `Workflow test ${tenant}`,
      protocol: 'SMS_ACTIVATE',
      baseUrl: `${simulatorUrl}/${tenant}/stubs/handler_api.php`,
      apiKey: `sim-${tenant}-key`,
      usdRate: '1',
      markupBps: 2500,
      lifetimeSeconds: 1200,
      minCancelSeconds: 0,
      requestTimeoutMs: 5000,
      countryIds: tenant === 'hero' ? 'herosms' : 'sms-activate',
      ...options.providers?.[tenant],
    }),
  );
  const registry = createProviderRegistry(configs);

  const control: Scenario['control'] = async (method, path, body, opts = {}) => {
    const response = await fetch(`${simulatorUrl}/control${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as any;
    if (!response.ok && !opts.allowError) throw new Error(`control ${method} ${path}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return { status: response.status, body: json };
  };

  // Prices first, then the catalog sync: the catalog must see what the simulator sells.
  for (const tenant of TENANTS) {
    await control('PUT', `/${tenant}/offers/${SERVICE}/${UPSTREAM_COUNTRY}`, { stock: 50, price: UPSTREAM_PRICE[tenant] });
  }
  await syncProviderRows(infra.db, configs, new SecretBox(developmentKeyring()));
  for (const config of configs) await infra.catalog.syncProviderOffers(config, (await registry.get(config.id)).adapter);
  const ours = configs.map((c) => c.id);
  await infra.db.offer.updateMany({ where: { serviceCode: SERVICE, countryIso: COUNTRY, providerId: { notIn: ours } }, data: { stock: 0 } });

  // The SMS intake the provider inbox hands its finds to, as the worker builds it (src/container.ts).
  const intake = options.temporal
    ? new SmsIntake({ db: infra.db, temporal: options.temporal, incidents: new IncidentService({ db: infra.db, audit: new AuditLog({ db: infra.db }) }), logger: createLogger('silent') })
    : undefined;
  // Partner webhooks as the worker has them; no partner events are enqueued in these scenarios.
  const partnerWebhooks = new PartnerWebhookService({ db: infra.db, secrets: new SecretBox(developmentKeyring()), audit: new AuditLog({ db: infra.db }), production: false });
  const activities = createActivities({ db: infra.db, wallet: infra.wallet, catalog: infra.catalog, providers: registry, events: infra.events, now: options.now, intake, partnerWebhooks });

  return {
    simulator,
    simulatorUrl,
    configs,
    registry,
    providerId,
    tenantOf(id) {
      const tenant = TENANTS.find((t) => providerId[t] === id);
      if (!tenant) throw new Error(`not a provider of this scenario: ${id}`);
      return tenant;
    },
    activities,
    control,
    async setOffer(tenant, offer) {
      await control('PUT', `/${tenant}/offers/${SERVICE}/${UPSTREAM_COUNTRY}`, offer);
    },
    async fault(tenant, fault) {
      await control('POST', `/${tenant}/faults`, fault);
    },
    async faults(tenant) {
      return (await control('GET', `/${tenant}/faults`)).body.faults;
    },
    async settings(tenant, patch) {
      await control('PATCH', `/${tenant}/settings`, patch);
    },
    async upstream(tenant, upstreamId) {
      return (await control('GET', `/${tenant}/activations/${upstreamId}`)).body;
    },
    async upstreamList(tenant) {
      return (await control('GET', `/${tenant}/activations`)).body.activations;
    },
    async deliverSms(tenant, upstreamId, code) {
      const reply = await control('POST', `/${tenant}/activations/${upstreamId}/sms`, { code }, { allowError: true });
      if (reply.status !== 200 && reply.status !== 409) throw new Error(`deliverSms: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      return { delivered: reply.status === 200, body: reply.body };
    },
    async close() {
      await simulator.close();
      // Later test files in this run must not be offered numbers from a simulator that is gone.
      await infra.db.provider.updateMany({ where: { id: { in: ours } }, data: { enabled: false } });
    },
  };
}

// ─── Workflow input and state ──────────────────────────────────────────────────────────────────

export function activationInput(userId: string, overrides: Partial<ActivationInput> = {}): ActivationInput {
  return {
    activationId: `wf-test-${randomUUID()}`,
    userId,
    serviceCode: SERVICE,
    countryIso: COUNTRY,
    maxPriceMicros: null,
    polling: { initialMs: 30_000, maxMs: 300_000 },
    ...overrides,
  };
}

export function sms(code: string, source: IncomingSms['source'] = 'webhook', text?: string): IncomingSms {
  return { code, text: text ?? `Your Telegram code: ${code}`, receivedAt: new Date().toISOString(), source };
}

/** Polls the workflow's query until `accept` holds. */
export async function waitForView(handle: WorkflowHandle, accept: (view: ActivationView) => boolean, timeoutMs = 15_000): Promise<ActivationView> {
  return waitFor(
    async () => {
      const view = await handle.query(getActivationQuery);
      return accept(view) ? view : null;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

export const isActive = (view: ActivationView) => view.status === 'ACTIVE';

/** The upstream id the workflow bought, read from the read model (the query does not expose it). */
export async function upstreamIdOf(infra: Infra, activationId: string): Promise<string> {
  const row = await waitFor(() => infra.db.activation.findFirst({ where: { id: activationId, upstreamId: { not: null } } }));
  return row.upstreamId!;
}

/** Waits until the activation is ACTIVE: its view then, and the upstream id it bought (activation workflows are started with the activation id as workflow id). */
export async function untilActive(infra: Infra, handle: WorkflowHandle): Promise<{ active: ActivationView; upstreamId: string }> {
  const active = await waitForView(handle, isActive);
  return { active, upstreamId: await upstreamIdOf(infra, handle.workflowId) };
}

// ─── Money ─────────────────────────────────────────────────────────────────────────────────────

export interface MoneyState {
  availableMicros: bigint;
  heldMicros: bigint;
  hold: { status: string; amountMicros: bigint; capturedMicros: bigint | null } | null;
  /** This activation's ledger entries, oldest first: step (`hold`, `capture`, `release`), kind and deltas. */
  entries: { step: string; kind: string; availableDelta: bigint; heldDelta: bigint }[];
  invariants: unknown[];
}

export async function moneyOf(infra: Infra, userId: string, activationId: string): Promise<MoneyState> {
  const wallet = await infra.wallet.getWallet(userId);
  const hold = await infra.db.hold.findUnique({ where: { key: activationId } });
  const entries = await infra.db.ledgerEntry.findMany({
    where: { walletId: wallet.walletId, idempotencyKey: { startsWith: `${activationId}:` } },
    orderBy: { id: 'asc' },
  });
  return {
    availableMicros: wallet.availableMicros,
    heldMicros: wallet.heldMicros,
    hold: hold && { status: hold.status, amountMicros: hold.amount, capturedMicros: hold.capturedAmount },
    entries: entries.map((e) => ({ step: e.idempotencyKey.slice(activationId.length + 1), kind: e.kind, availableDelta: e.availableDelta, heldDelta: e.heldDelta })),
    invariants: await infra.wallet.checkInvariants(userId),
  };
}

/** The funds are held and nothing else happened yet. */
export function expectHeld(money: MoneyState, held: bigint, credit = CREDIT): void {
  expect(money).toEqual({
    availableMicros: credit - held,
    heldMicros: held,
    hold: { status: 'OPEN', amountMicros: held, capturedMicros: null },
    entries: [{ step: 'hold', kind: 'HOLD', availableDelta: -held, heldDelta: held }],
    invariants: [],
  });
}

/** Everything held went back: one HOLD, one RELEASE, no CAPTURE. */
export function expectReleased(money: MoneyState, held: bigint, credit = CREDIT): void {
  expect(money).toEqual({
    availableMicros: credit,
    heldMicros: 0n,
    hold: { status: 'RELEASED', amountMicros: held, capturedMicros: null },
    entries: [
      { step: 'hold', kind: 'HOLD', availableDelta: -held, heldDelta: held },
      { step: 'release', kind: 'RELEASE', availableDelta: held, heldDelta: -held },
    ],
    invariants: [],
  });
}

/** The price was spent exactly once, the rest of the hold went back: one HOLD, one CAPTURE, no RELEASE. */
export function expectCaptured(money: MoneyState, held: bigint, price: bigint, credit = CREDIT): void {
  expect(money).toEqual({
    availableMicros: credit - price,
    heldMicros: 0n,
    hold: { status: 'CAPTURED', amountMicros: held, capturedMicros: price },
    entries: [
      { step: 'hold', kind: 'HOLD', availableDelta: -held, heldDelta: held },
      { step: 'capture', kind: 'CAPTURE', availableDelta: held - price, heldDelta: -held },
    ],
    invariants: [],
  });
}

/** The read model: the activation row and its stored SMS. */
export async function recordOf(infra: Infra, activationId: string) {
  const row = await infra.db.activation.findUniqueOrThrow({ where: { id: activationId }, include: { messages: { orderBy: { seq: 'asc' } } } });
  return { status: row.status, providerId: row.providerId, failureReason: row.failureReason, priceMicros: row.priceMicros, codes: row.messages.map((m) => m.code) };
}

// ─── Histories ─────────────────────────────────────────────────────────────────────────────────

/** Event types of a workflow's history, for assertions on what the workflow did (activity names, attempts). */
export async function activityAttempts(handle: WorkflowHandle): Promise<{ activity: string; attempt: number; outcome: string }[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const started = new Map<string, number>();
  const result: { activity: string; attempt: number; outcome: string }[] = [];
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduled.set(id, event.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    } else if (event.activityTaskStartedEventAttributes) {
      started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), event.activityTaskStartedEventAttributes.attempt ?? 0);
    } else {
      const done =
        (event.activityTaskCompletedEventAttributes && ['completed', event.activityTaskCompletedEventAttributes.scheduledEventId]) ||
        (event.activityTaskFailedEventAttributes && ['failed', event.activityTaskFailedEventAttributes.scheduledEventId]) ||
        (event.activityTaskCanceledEventAttributes && ['cancelled', event.activityTaskCanceledEventAttributes.scheduledEventId]) ||
        (event.activityTaskTimedOutEventAttributes && ['timed out', event.activityTaskTimedOutEventAttributes.scheduledEventId]);
      if (done) {
        const key = String(done[1]);
        result.push({ activity: scheduled.get(key) ?? '?', attempt: started.get(key) ?? 0, outcome: done[0] as string });
      }
    }
  }
  return result;
}

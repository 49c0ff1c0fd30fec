import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import {
  CIRCUIT_OPEN,
  ProviderHealth,
  histogramP50,
  isHealthFailure,
  latencyBucket,
  successPpm,
  withHealth,
  type HealthSettings,
} from '../../src/providers/health';
import { rankCandidates } from '../../src/providers/routing';
import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import { ProviderError, type ProviderAdapter, type ProviderErrorKind } from '../../src/providers/types';
import { createSimulator, type Simulator } from '../../src/simulator';

/**
 * Provider health and the circuit breaker on a real Redis, with a clock the tests move: sliding
 * windows, success rate with its prior, the breaker's closed → open → half-open → closed/open
 * cycle, and — over real HTTP against the simulator — a failing provider skipped by routing and
 * taken back after the cool-down.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
const PREFIX = `test:health:${randomUUID()}:`;
const START = Date.UTC(2026, 0, 5, 10, 0, 0);
let t = START;
let run = 0;

const SETTINGS: Partial<HealthSettings> = { minCalls: 10, errorRateThreshold: 0.5, consecutiveFailures: 5, cooldownMs: 30_000, callWindowMinutes: 10, routeWindowHours: 24 };

/** A ProviderHealth with its own keys and the test clock. */
function newHealth(overrides: Partial<HealthSettings> = {}): ProviderHealth {
  run += 1;
  return new ProviderHealth({ redis, now: () => t, ...SETTINGS, ...overrides, keyPrefix: `${PREFIX}${run}:` });
}

const ok = (latencyMs = 40) => ({ ok: true, latencyMs });
const fail = (kind: ProviderErrorKind | undefined = 'TRANSIENT', latencyMs = 40) => ({ ok: false, latencyMs, kind });

async function record(health: ProviderHealth, providerId: string, outcomes: { ok: boolean; latencyMs: number; kind?: ProviderErrorKind }[]) {
  const states = [];
  for (const outcome of outcomes) states.push(await health.recordCall(providerId, outcome));
  return states;
}

beforeAll(() => redis.connect());
beforeEach(() => {
  t = START;
});
afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

describe('pure rules', () => {
  test.each([
    [{ ok: true }, false],
    [{ ok: false, kind: 'TRANSIENT' }, true],
    [{ ok: false }, true],
    [{ ok: false, kind: 'NO_NUMBERS' }, false],
    [{ ok: false, kind: 'REJECTED' }, false],
    [{ ok: false, kind: 'EARLY_CANCEL' }, false],
    [{ ok: false, kind: 'HAS_SMS' }, false],
    [{ ok: false, kind: 'BAD_STATE' }, false],
    [{ ok: false, kind: 'NOT_FOUND' }, false],
  ] as const)('%j is a health failure: %s', (outcome, expected) => {
    expect(isHealthFailure(outcome)).toBe(expected);
  });

  test('success rate: the prior alone, then the evidence takes over', () => {
    const prior = { successPrior: 0.8, priorWeight: 5 };
    expect(successPpm(0, 0, prior)).toBe(800_000);
    expect(successPpm(5, 5, prior)).toBe(900_000); // (5 + 4) / 10
    expect(successPpm(5, 0, prior)).toBe(400_000); // (0 + 4) / 10
    expect(successPpm(1000, 100, prior)).toBe(Math.floor((100 * 1e6 + 4e6) / 1005));
    expect(successPpm(2, 7, prior)).toBe(successPpm(2, 2, prior)); // late SMS never push it above 100 %
  });

  test('latency histogram: bucket upper bounds, p50', () => {
    expect([latencyBucket(0), latencyBucket(25), latencyBucket(26), latencyBucket(1e9)]).toEqual([0, 0, 1, 12]);
    expect(histogramP50([])).toBeNull();
    expect(histogramP50([1, 1, 5])).toBe(100);
    expect(histogramP50([3, 0, 0, 1])).toBe(25);
  });
});

describe('windows', () => {
  test('call counts, error rate (refusals are not errors) and p50 latency over the last 10 minutes', async () => {
    const health = newHealth({ consecutiveFailures: 100, minCalls: 1000 });
    await record(health, 'p', [ok(30), ok(30), ok(180), fail('TRANSIENT', 900), fail('NO_NUMBERS', 30), fail('REJECTED', 30)]);
    let snap = await health.snapshot('p', 'tg', 'ID');
    expect(snap).toEqual(expect.objectContaining({ callCount: 6, errorCount: 1, p50LatencyMs: 50, breaker: 'closed', available: true }));
    expect(snap.errorRate).toBeCloseTo(1 / 6);

    t += 6 * 60_000;
    await record(health, 'p', [fail(), fail()]);
    snap = await health.snapshot('p', 'tg', 'ID');
    expect([snap.callCount, snap.errorCount]).toEqual([8, 3]);

    // The first six fall out of the window; the last two are 5 minutes old.
    t += 5 * 60_000;
    snap = await health.snapshot('p', 'tg', 'ID');
    expect([snap.callCount, snap.errorCount]).toEqual([2, 2]);
    t += 6 * 60_000;
    snap = await health.snapshot('p', 'tg', 'ID');
    expect(snap).toEqual(expect.objectContaining({ callCount: 0, errorCount: 0, errorRate: 0, p50LatencyMs: null }));
  });

  test('success rate per provider × service × country, with the prior, over 24 hours', async () => {
    const health = newHealth();
    expect(await health.snapshot('p', 'tg', 'ID')).toEqual(expect.objectContaining({ purchases: 0, smsReceived: 0, successPpm: 800_000, successRate: 0.8 }));

    for (let i = 0; i < 10; i += 1) await health.recordPurchase('p', 'tg', 'ID');
    for (let i = 0; i < 3; i += 1) await health.recordSmsReceived('p', 'tg', 'ID');
    // (3 + 0.8 × 5) / (10 + 5)
    expect(await health.snapshot('p', 'tg', 'ID')).toEqual(expect.objectContaining({ purchases: 10, smsReceived: 3, successPpm: 466_666 }));
    // Other routes and providers are untouched.
    expect((await health.snapshot('p', 'tg', 'GB')).successPpm).toBe(800_000);
    expect((await health.snapshot('p', 'wa', 'ID')).successPpm).toBe(800_000);
    expect((await health.snapshot('q', 'tg', 'ID')).successPpm).toBe(800_000);

    t += 23 * 3_600_000;
    expect((await health.snapshot('p', 'tg', 'ID')).purchases).toBe(10);
    t += 2 * 3_600_000;
    expect(await health.snapshot('p', 'tg', 'ID')).toEqual(expect.objectContaining({ purchases: 0, successPpm: 800_000 }));
  });

  test('a retried activity counts its purchase and its SMS once (dedupe key)', async () => {
    const health = newHealth();
    expect(await health.recordPurchase('p', 'tg', 'ID', { dedupeKey: 'act-1' })).toBe(true);
    expect(await health.recordPurchase('p', 'tg', 'ID', { dedupeKey: 'act-1' })).toBe(false);
    expect(await health.recordSmsReceived('p', 'tg', 'ID', { dedupeKey: 'act-1' })).toBe(true);
    expect(await health.recordSmsReceived('p', 'tg', 'ID', { dedupeKey: 'act-1' })).toBe(false);
    expect(await health.snapshot('p', 'tg', 'ID')).toEqual(expect.objectContaining({ purchases: 1, smsReceived: 1 }));
  });

  test('routeHealth answers for several providers at once', async () => {
    const health = newHealth();
    await health.recordPurchase('a', 'tg', 'ID');
    await record(health, 'b', [fail(), fail(), fail(), fail(), fail()]);
    const map = await health.routeHealth(['a', 'b', 'c'], 'tg', 'ID');
    expect([...map.keys()]).toEqual(['a', 'b', 'c']);
    expect(map.get('a')!.purchases).toBe(1);
    expect(map.get('b')!.available).toBe(false);
    expect(map.get('c')).toEqual(expect.objectContaining({ available: true, callCount: 0, successPpm: 800_000 }));
  });
});

describe('circuit breaker', () => {
  test('opens after N consecutive transient failures; a success in between resets the count', async () => {
    const health = newHealth({ minCalls: 1000 });
    await record(health, 'p', [fail(), fail(), fail(), fail(), ok()]);
    expect(await health.state('p')).toBe('closed');
    const states = await record(health, 'p', [fail(), fail(), fail(), fail(), fail()]);
    expect(states.map((s) => s.state)).toEqual(['closed', 'closed', 'closed', 'closed', 'open']);
    expect(states[4].changed).toBe(true);
    expect(await health.state('p')).toBe('open');
    expect(await health.isAvailable('p')).toBe(false);
    expect(await health.acquire('p')).toBe(false);
  });

  test('opens when the error rate exceeds the threshold over at least minCalls calls', async () => {
    const health = newHealth({ consecutiveFailures: 100, minCalls: 10, errorRateThreshold: 0.5 });
    // 5 of 10 is not above 50 %.
    await record(health, 'p', [fail(), ok(), fail(), ok(), fail(), ok(), fail(), ok(), fail(), ok()]);
    expect(await health.state('p')).toBe('closed');
    // 6 of 11 is.
    const [last] = await record(health, 'p', [fail()]);
    expect(last).toEqual({ state: 'open', changed: true });
  });

  test('below minCalls the rate alone does not open it', async () => {
    const health = newHealth({ consecutiveFailures: 100, minCalls: 10 });
    await record(health, 'p', [fail(), fail(), fail(), fail(), fail(), fail(), fail(), fail(), fail()]);
    expect(await health.state('p')).toBe('closed');
  });

  test('NO_NUMBERS and REJECTED never open it: the provider is answering', async () => {
    const health = newHealth({ minCalls: 5 });
    await record(health, 'p', Array.from({ length: 20 }, (_, i) => fail(i % 2 ? 'NO_NUMBERS' : 'REJECTED')));
    expect(await health.state('p')).toBe('closed');
    expect((await health.snapshot('p', 'tg', 'ID')).errorRate).toBe(0);
  });

  test('stays open for the cool-down, whatever in-flight calls report', async () => {
    const health = newHealth();
    await record(health, 'p', Array.from({ length: 5 }, () => fail()));
    t += 29_999;
    expect(await record(health, 'p', [ok(), ok()])).toEqual([
      { state: 'open', changed: false },
      { state: 'open', changed: false },
    ]);
    expect(await health.state('p')).toBe('open');
    expect(await health.acquire('p')).toBe(false);
  });

  test('half-open: exactly one probe at a time; a success closes it', async () => {
    const health = newHealth();
    await record(health, 'p', Array.from({ length: 5 }, () => fail()));
    t += 30_000;
    expect(await health.state('p')).toBe('half-open');
    expect(await health.isAvailable('p')).toBe(true);

    expect(await health.acquire('p')).toBe(true);
    expect(await health.acquire('p')).toBe(false);
    expect(await health.isAvailable('p')).toBe(false);
    // Another process asks too: still one probe.
    const other = new ProviderHealth({ redis, now: () => t, ...SETTINGS, keyPrefix: health.settings.keyPrefix });
    expect(await other.acquire('p')).toBe(false);

    expect(await health.recordCall('p', ok())).toEqual({ state: 'closed', changed: true });
    expect(await health.state('p')).toBe('closed');
    expect(await other.acquire('p')).toBe(true);
  });

  test('half-open: a failed probe re-opens it for a fresh cool-down', async () => {
    const health = newHealth();
    await record(health, 'p', Array.from({ length: 5 }, () => fail()));
    t += 45_000;
    expect(await health.acquire('p')).toBe(true);
    expect(await health.recordCall('p', fail('TRANSIENT'))).toEqual({ state: 'open', changed: true });
    expect(await health.state('p')).toBe('open');
    t += 29_999;
    expect(await health.state('p')).toBe('open');
    t += 1;
    expect(await health.state('p')).toBe('half-open');
    expect(await health.acquire('p')).toBe(true);
  });

  test('a refusal during the probe counts as a success (the provider answered)', async () => {
    const health = newHealth();
    await record(health, 'p', Array.from({ length: 5 }, () => fail()));
    t += 30_000;
    expect(await health.acquire('p')).toBe(true);
    expect(await health.recordCall('p', fail('NO_NUMBERS'))).toEqual({ state: 'closed', changed: true });
  });

  test('once closed, it judges only calls made since: old failures in the window do not re-open it', async () => {
    const health = newHealth({ consecutiveFailures: 100, minCalls: 4, errorRateThreshold: 0.5 });
    await record(health, 'p', [fail(), fail(), fail(), fail()]);
    expect(await health.state('p')).toBe('open');
    t += 30_000;
    await health.acquire('p');
    await health.recordCall('p', ok());
    // Same 10-minute window, 4 old failures in it: one new failure of 1 call is below minCalls.
    expect(await record(health, 'p', [fail()])).toEqual([{ state: 'closed', changed: false }]);
    expect((await health.snapshot('p', 'tg', 'ID')).errorCount).toBe(5);
    // Fresh evidence does re-open it: 3 failures of 4 calls since closing.
    expect((await record(health, 'p', [ok(), fail(), fail()])).at(-1)).toEqual({ state: 'open', changed: true });
  });

  test('reset() closes it at once', async () => {
    const health = newHealth();
    await record(health, 'p', Array.from({ length: 5 }, () => fail()));
    await health.reset('p');
    expect(await health.state('p')).toBe('closed');
    expect(await health.acquire('p')).toBe(true);
  });

  test('routing skips a provider whose breaker is open and takes it back when half-open', async () => {
    const health = newHealth();
    const candidates = [
      { providerId: 'cheap', sellMicros: '100000' },
      { providerId: 'dear', sellMicros: '200000' },
    ];
    const order = async () => rankCandidates(candidates, await health.routeHealth(['cheap', 'dear'], 'tg', 'ID')).map((c) => c.providerId);
    expect(await order()).toEqual(['cheap', 'dear']);
    await record(health, 'cheap', Array.from({ length: 5 }, () => fail()));
    expect(await order()).toEqual(['dear']);
    t += 30_000;
    expect(await order()).toEqual(['cheap', 'dear']);
  });
});

describe('withHealth over real HTTP (simulator fault injection)', () => {
  let sim: Simulator;
  let base: string;
  const TENANTS = { flaky: 'key-flaky', steady: 'key-steady' } as const;

  beforeAll(async () => {
    sim = createSimulator({
      logger: pino({ level: 'silent' }),
      sweepIntervalMs: 0,
      tenants: Object.entries(TENANTS).map(([id, apiKey]) => ({ id, apiKey, errorStyle: 'classic' as const })),
    });
    ({ url: base } = await sim.listen(0));
  });
  afterAll(() => sim.close());

  async function control(method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}/control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    return response.json();
  }

  const adapter = (tenant: keyof typeof TENANTS): ProviderAdapter =>
    new SmsActivateAdapter({ id: `${tenant}-sim`, baseUrl: `${base}/${tenant}/stubs/handler_api.php`, apiKey: TENANTS[tenant], timeoutMs: 2_000 });

  test('a failing provider is skipped, then comes back after the cool-down', async () => {
    for (const tenant of Object.keys(TENANTS)) {
      await control('POST', `/${tenant}/reset`);
      await control('PUT', `/${tenant}/offers/tg/6`, { stock: 50, price: tenant === 'flaky' ? '0.10' : '0.20' });
      await control('PUT', `/${tenant}/balance`, { balance: '100.00' });
    }
    const health = newHealth({ consecutiveFailures: 3, cooldownMs: 60_000 });
    const adapters = { 'flaky-sim': withHealth(adapter('flaky'), health), 'steady-sim': withHealth(adapter('steady'), health) };
    const candidates = [
      { providerId: 'flaky-sim', sellMicros: '125000' },
      { providerId: 'steady-sim', sellMicros: '250000' },
    ];
    /** One purchase as the workflow makes it: candidates in routing order, next one on failure. */
    const purchase = async () => {
      const ranked = rankCandidates(candidates, await health.routeHealth(Object.keys(adapters), 'tg', 'ID'));
      const tried: string[] = [];
      for (const candidate of ranked) {
        tried.push(candidate.providerId);
        try {
          await adapters[candidate.providerId as keyof typeof adapters].buy({ service: 'tg', country: '6' });
          return { tried, soldBy: candidate.providerId };
        } catch (error) {
          if (!(error instanceof ProviderError)) throw error;
        }
      }
      return { tried, soldBy: null };
    };

    // The cheap provider answers 503 to every purchase for a while.
    await control('POST', '/flaky/faults', { action: 'getNumberV2', times: 3, reply: { status: 503 } });
    expect(await purchase()).toEqual({ tried: ['flaky-sim', 'steady-sim'], soldBy: 'steady-sim' });
    expect(await purchase()).toEqual({ tried: ['flaky-sim', 'steady-sim'], soldBy: 'steady-sim' });
    expect(await purchase()).toEqual({ tried: ['flaky-sim', 'steady-sim'], soldBy: 'steady-sim' });
    expect(await health.state('flaky-sim')).toBe('open');

    // Open: routing leaves it out, and the wrapper would refuse to call it anyway.
    expect(await purchase()).toEqual({ tried: ['steady-sim'], soldBy: 'steady-sim' });
    const refused = await adapters['flaky-sim'].buy({ service: 'tg', country: '6' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused).toEqual(expect.objectContaining({ kind: 'NO_NUMBERS', token: CIRCUIT_OPEN }));
    const flakyActivations = async () => ((await control('GET', '/flaky/activations')) as { activations: unknown[] }).activations.length;
    expect(await flakyActivations()).toBe(0);

    const snap = await health.snapshot('flaky-sim', 'tg', 'ID');
    expect(snap).toEqual(expect.objectContaining({ callCount: 3, errorCount: 3, breaker: 'open' }));
    expect(snap.p50LatencyMs).not.toBeNull();
    expect((await health.snapshot('steady-sim', 'tg', 'ID')).callCount).toBe(4);

    // After the cool-down the first purchase is the probe; it succeeds and closes the breaker.
    t += 60_000;
    expect(await health.state('flaky-sim')).toBe('half-open');
    expect(await purchase()).toEqual({ tried: ['flaky-sim'], soldBy: 'flaky-sim' });
    expect(await health.state('flaky-sim')).toBe('closed');
    expect(await flakyActivations()).toBe(1);
    expect(await purchase()).toEqual({ tried: ['flaky-sim'], soldBy: 'flaky-sim' });
  });

  test('a failed probe keeps it out for another cool-down; NO_NUMBERS does not count against it', async () => {
    await control('POST', '/flaky/reset');
    await control('PUT', '/flaky/offers/tg/6', { stock: 50, price: '0.10' });
    const health = newHealth({ consecutiveFailures: 2, cooldownMs: 10_000 });
    const flaky = withHealth(adapter('flaky'), health);

    await control('PUT', '/flaky/offers/tg/6', { stock: 0 });
    for (let i = 0; i < 5; i += 1) await expect(flaky.buy({ service: 'tg', country: '6' })).rejects.toMatchObject({ kind: 'NO_NUMBERS', token: 'NO_NUMBERS' });
    expect(await health.state('flaky-sim')).toBe('closed');

    await control('POST', '/flaky/faults', { times: 3, reply: { status: 500 } });
    await expect(flaky.getBalance()).rejects.toMatchObject({ kind: 'TRANSIENT' });
    await expect(flaky.getBalance()).rejects.toMatchObject({ kind: 'TRANSIENT' });
    expect(await health.state('flaky-sim')).toBe('open');

    t += 10_000;
    await expect(flaky.buy({ service: 'tg', country: '6' })).rejects.toMatchObject({ kind: 'TRANSIENT' });
    expect(await health.state('flaky-sim')).toBe('open');
    await expect(flaky.buy({ service: 'tg', country: '6' })).rejects.toMatchObject({ token: CIRCUIT_OPEN });

    // Status polls and cancels are never gated: money depends on them.
    expect(await flaky.getBalance()).toBeGreaterThan(0n);
    t += 10_000;
    await control('PUT', '/flaky/offers/tg/6', { stock: 5 });
    await expect(flaky.buy({ service: 'tg', country: '6' })).resolves.toEqual(expect.objectContaining({ phone: expect.stringMatching(/^\+62/) }));
    expect(await health.state('flaky-sim')).toBe('closed');
  });
});

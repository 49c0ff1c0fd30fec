import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { ActivationEventHub } from '../../src/activations/live-events';
import { soldOutPair, startSystem, startWebhookSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * Whole purchases through the HTTP API: real PostgreSQL, Redis, Temporal dev server, the
 * simulator over HTTP and the API on a real port. Each describe has its own system (its own
 * task queue and simulator), because the provider config (lifetime, minimum cancel delay) and
 * the SMS path (poll or webhook) are system-wide.
 */

type Customer = Awaited<ReturnType<TestSystem['customer']>>;

/**
 * What these tests buy: pairs every simulator tenant always sells. Not Telegram in Indonesia,
 * which the workflow tests take over in the shared catalog while they run.
 */
const MAIN = { service: 'wa', country: 'ID' };
const OTHER = { service: 'tg', country: 'GB' };

const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

/** The simulator's record of the number an activation bought (matched by phone, not by position). */
async function upstreamOf(system: TestSystem, activation: { providerId: string; phone: string }) {
  const { activations } = await system.sim('GET', `/control/${tenantOf(activation.providerId)}/activations`);
  const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
  if (!upstream) throw new Error(`no simulator activation with phone ${activation.phone}`);
  return upstream as { id: number; state: string; codes: string[] };
}

async function buy(system: TestSystem, customer: Customer, key: string, body: Record<string, unknown> = MAIN) {
  const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': key }, body });
  if (bought.status !== 201) throw new Error(`purchase failed: ${bought.status} ${JSON.stringify(bought.body)}`);
  expect(bought.body.activation.status).toBe('ACTIVE');
  return bought.body.activation;
}

async function deliverSms(system: TestSystem, activation: { providerId: string; phone: string }, code: string) {
  const upstream = await upstreamOf(system, activation);
  const delivered = await system.sim('POST', `/control/${tenantOf(activation.providerId)}/activations/${upstream.id}/sms`, { code });
  expect(delivered.codes).toContain(code);
}

async function getActivation(system: TestSystem, customer: Customer, id: string) {
  const current = await system.request('GET', `/api/numbers/${id}`, { token: customer.token });
  expect(current.status).toBe(200);
  return current.body.activation;
}

function waitForMessages(system: TestSystem, customer: Customer, id: string, count: number, timeoutMs?: number) {
  return waitFor(
    async () => {
      const activation = await getActivation(system, customer, id);
      return activation.messages.length >= count ? activation : null;
    },
    { timeoutMs },
  );
}

async function wallet(system: TestSystem, customer: Customer) {
  const response = await system.request('GET', '/api/wallet', { token: customer.token });
  expect(response.status).toBe(200);
  return response.body as { wallet: { availableMicros: string; heldMicros: string }; ledger: { kind: string; availableDelta: string; heldDelta: string; memo: string }[] };
}

function waitForSettled(system: TestSystem, customer: Customer) {
  return waitFor(async () => {
    const current = await wallet(system, customer);
    return current.wallet.heldMicros === '0' ? current : null;
  });
}

describe('purchase through the HTTP API', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // Providers refuse a cancel for the first 2 s, so "cancel too early, then after the delay" runs for real.
    system = await startSystem({
      polling: { initialMs: 200, maxMs: 1000 },
      providers: { 'hero-sim': { minCancelSeconds: 2 }, 'activate-sim': { minCancelSeconds: 2 } },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('buys a number, shows the SMS code and captures the price', async () => {
    const customer = await system.customer(5_000_000n);
    const bought = await system.request('POST', '/api/numbers', {
      token: customer.token,
      headers: { 'Idempotency-Key': 'purchase-happy-path-1' },
      body: MAIN,
    });
    expect(bought.status).toBe(201);
    const activation = bought.body.activation;
    expect(activation.status).toBe('ACTIVE');
    expect(activation.phone).toMatch(/^\+\d{8,15}$/);
    const price = BigInt(activation.priceMicros);

    const held = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(held.body.wallet).toEqual({ availableMicros: (5_000_000n - BigInt(activation.heldMicros)).toString(), heldMicros: activation.heldMicros });

    await deliverSms(system, activation, '424242');

    const withCode = await waitForMessages(system, customer, activation.id, 1);
    expect(withCode.messages[0].code).toBe('424242');
    expect(withCode.actions).toEqual({ cancel: false, retry: true, finish: true });

    const settled = await waitForSettled(system, customer);
    expect(BigInt(settled.wallet.availableMicros)).toBe(5_000_000n - price);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('refuses a cancel before the provider minimum, then cancels after it and restores the balance', async () => {
    const customer = await system.customer(5_000_000n);
    const activation = await buy(system, customer, 'purchase-cancel-1');
    expect(activation.actions.cancel).toBe(false);

    const early = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('CANCEL_TOO_EARLY');
    expect(early.body.error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(early.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(2);

    // The workflow itself says when cancelling becomes possible; no fixed sleep.
    await waitFor(async () => (await getActivation(system, customer, activation.id)).actions.cancel === true, { intervalMs: 100 });
    const cancelled = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.activation.status).toBe('CANCELLED');

    expect((await getActivation(system, customer, activation.id)).status).toBe('CANCELLED');
    const after = await wallet(system, customer);
    expect(after.wallet).toEqual({ availableMicros: '5000000', heldMicros: '0' });
    expect((await upstreamOf(system, activation)).state).toBe('CANCELLED');
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);

    // A closed activation refuses further actions with a stable code.
    const again = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ACTIVATION_CLOSED');
  });

  it('asks for another SMS, receives it, and finishes', async () => {
    const customer = await system.customer(5_000_000n);
    const activation = await buy(system, customer, 'purchase-retry-finish-1');
    const price = BigInt(activation.priceMicros);

    await deliverSms(system, activation, '111111');
    await waitForMessages(system, customer, activation.id, 1);

    const retried = await system.request('POST', `/api/numbers/${activation.id}/retry`, { token: customer.token });
    expect(retried.status).toBe(200);
    expect(retried.body.activation.status).toBe('ACTIVE');
    expect(retried.body.activation.actions).toEqual({ cancel: false, retry: false, finish: true });
    expect((await getActivation(system, customer, activation.id)).actions).toEqual({ cancel: false, retry: false, finish: true });
    expect((await upstreamOf(system, activation)).state).toBe('WAIT_RETRY');

    // A second "another SMS" while one is awaited is refused.
    const twice = await system.request('POST', `/api/numbers/${activation.id}/retry`, { token: customer.token });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ALREADY_AWAITING_SMS');

    await deliverSms(system, activation, '222222');
    const withTwo = await waitForMessages(system, customer, activation.id, 2);
    expect(withTwo.messages.map((m: { seq: number; code: string }) => [m.seq, m.code])).toEqual([
      [1, '111111'],
      [2, '222222'],
    ]);
    expect(withTwo.actions).toEqual({ cancel: false, retry: true, finish: true });

    const finished = await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    expect(finished.status).toBe(200);
    expect(finished.body.activation.status).toBe('COMPLETED');
    const stored = await getActivation(system, customer, activation.id);
    expect(stored.status).toBe('COMPLETED');
    expect(stored.messages).toHaveLength(2);
    expect((await upstreamOf(system, activation)).state).toBe('DONE');

    // Two SMS, one charge.
    const after = await wallet(system, customer);
    expect(after.wallet).toEqual({ availableMicros: (5_000_000n - price).toString(), heldMicros: '0' });
    expect(after.ledger.filter((e) => e.kind === 'CAPTURE')).toHaveLength(1);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it("lists only the signed-in user's activations", async () => {
    const alice = await system.customer(5_000_000n);
    const bob = await system.customer(5_000_000n);
    const a1 = await buy(system, alice, 'purchase-list-1');
    const a2 = await buy(system, alice, 'purchase-list-2', OTHER);
    const b1 = await buy(system, bob, 'purchase-list-1');
    expect(b1.id).not.toBe(a1.id);

    const aliceList = await system.request('GET', '/api/numbers', { token: alice.token });
    expect(aliceList.status).toBe(200);
    expect(aliceList.body.activations.map((a: { id: string }) => a.id).sort()).toEqual([a1.id, a2.id].sort());
    expect(aliceList.body.activations.every((a: { userId: string }) => a.userId === alice.id)).toBe(true);

    const bobList = await system.request('GET', '/api/numbers', { token: bob.token });
    expect(bobList.body.activations.map((a: { id: string }) => a.id)).toEqual([b1.id]);

    const limited = await system.request('GET', '/api/numbers?limit=1', { token: alice.token });
    expect(limited.body.activations.map((a: { id: string }) => a.id)).toEqual([a2.id]);
  });

  it('never sells from a provider this deployment does not have configured', async () => {
    // A provider left in the database (removed from PROVIDERS_JSON, or another deployment's),
    // still enabled, with a cheaper offer for a pair that only this test buys.
    const { db } = system.container;
    const [pair] = await db.$queryRaw<{ service: string; country: string; price: bigint }[]>`
      SELECT service_code AS service, country_iso AS country, MIN(sell_micros) AS price FROM offers
      WHERE provider_id IN ('hero-sim', 'activate-sim') AND stock > 0 AND service_code ~ '^[a-z]+$'
        AND (service_code, country_iso) NOT IN (('wa', 'ID'), ('tg', 'GB'), ('tg', 'ID'))
      GROUP BY 1, 2 HAVING COUNT(*) = 2 AND MIN(sell_micros) > 20000 ORDER BY 1 DESC, 2 DESC LIMIT 1`;
    const stale = `stale-${randomUUID().slice(0, 8)}`;
    await db.provider.create({ data: { id: stale, displayName: 'No longer configured', protocol: 'SMS_ACTIVATE' } });
    try {
      await db.offer.create({
        data: { providerId: stale, serviceCode: pair.service, countryIso: pair.country, upstreamService: pair.service, upstreamCountry: '0', costMicros: 1_000n, sellMicros: 10_000n, stock: 100 },
      });

      const offers = await system.request('GET', `/api/catalog/offers?service=${pair.service}&country=${pair.country}`);
      expect(offers.body.offers[0].priceMicros).toBe(pair.price.toString());

      const customer = await system.customer(5_000_000n);
      const started = Date.now();
      const activation = await buy(system, customer, 'purchase-stale-provider', { service: pair.service, country: pair.country });
      expect(['hero-sim', 'activate-sim']).toContain(activation.providerId);
      expect(activation.heldMicros).toBe(pair.price.toString());
      // No detour through retries of a provider the worker cannot call.
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await db.provider.update({ where: { id: stale }, data: { enabled: false } });
    }
  });

  it('shows HOLD, CAPTURE and RELEASE entries with their memos in the wallet ledger', async () => {
    const customer = await system.customer(5_000_000n);
    const kept = await buy(system, customer, 'purchase-ledger-kept');
    await deliverSms(system, kept, '909090');
    await waitForMessages(system, customer, kept.id, 1);
    await waitForSettled(system, customer);

    const given = await buy(system, customer, 'purchase-ledger-cancelled', OTHER);
    await waitFor(async () => (await getActivation(system, customer, given.id)).actions.cancel === true, { intervalMs: 100 });
    const cancelled = await system.request('POST', `/api/numbers/${given.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);

    const { wallet: balance, ledger } = await wallet(system, customer);
    const keptHeld = BigInt(kept.heldMicros);
    const keptPrice = BigInt(kept.priceMicros);
    const givenHeld = BigInt(given.heldMicros);
    // Newest first.
    expect(ledger.map((e) => ({ kind: e.kind, availableDelta: e.availableDelta, heldDelta: e.heldDelta, memo: e.memo }))).toEqual([
      { kind: 'RELEASE', availableDelta: givenHeld.toString(), heldDelta: (-givenHeld).toString(), memo: 'Number for tg / GB' },
      { kind: 'HOLD', availableDelta: (-givenHeld).toString(), heldDelta: givenHeld.toString(), memo: 'Number for tg / GB' },
      { kind: 'CAPTURE', availableDelta: (keptHeld - keptPrice).toString(), heldDelta: (-keptHeld).toString(), memo: 'Number for wa / ID' },
      { kind: 'HOLD', availableDelta: (-keptHeld).toString(), heldDelta: keptHeld.toString(), memo: 'Number for wa / ID' },
      { kind: 'CREDIT', availableDelta: '5000000', heldDelta: '0', memo: 'test top-up' },
    ]);
    expect(balance).toEqual({ availableMicros: (5_000_000n - keptPrice).toString(), heldMicros: '0' });

    const page = await system.request('GET', `/api/wallet?limit=2`, { token: customer.token });
    expect(page.body.ledger.map((e: { kind: string }) => e.kind)).toEqual(['RELEASE', 'HOLD']);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });
});

describe('purchase that expires without an SMS', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // 10 s is the shortest lifetime the provider config accepts.
    system = await startSystem({
      polling: { initialMs: 200, maxMs: 1000 },
      providers: { 'hero-sim': { lifetimeSeconds: 10 }, 'activate-sim': { lifetimeSeconds: 10 } },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('ends EXPIRED, refunds in full and cancels the number at the provider', async () => {
    const customer = await system.customer(3_000_000n);
    const activation = await buy(system, customer, 'purchase-expiry-1');
    expect(Date.parse(activation.expiresAt) - Date.now()).toBeLessThanOrEqual(10_000);
    expect((await wallet(system, customer)).wallet.heldMicros).toBe(activation.heldMicros);

    const expired = await waitFor(
      async () => {
        const current = await getActivation(system, customer, activation.id);
        return current.status === 'EXPIRED' ? current : null;
      },
      { timeoutMs: 25_000, intervalMs: 250 },
    );
    expect(expired.messages).toEqual([]);
    expect(expired.actions).toEqual({ cancel: false, retry: false, finish: false });

    const { wallet: balance, ledger } = await wallet(system, customer);
    expect(balance).toEqual({ availableMicros: '3000000', heldMicros: '0' });
    expect(ledger.map((e) => e.kind)).toEqual(['RELEASE', 'HOLD', 'CREDIT']);
    // The simulator's own lifetime is 20 minutes: CANCELLED here means SimGate cancelled it.
    expect((await upstreamOf(system, activation)).state).toBe('CANCELLED');
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });
});

describe('how a purchase learns its number', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startWebhookSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  const updateEvents = async (activationId: string) => {
    const { events } = await system.container.temporal.client.workflow.getHandle(activationId).fetchHistory();
    return (events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes).length;
  };

  it('answers from the event its purchase step publishes: no workflow update in the history', async () => {
    const customer = await system.customer(5_000_000n);
    const activation = await buy(system, customer, 'learns-by-event-1');
    expect(activation.phone).toMatch(/^\+\d{8,15}$/);
    expect(await getActivation(system, customer, activation.id)).toMatchObject({ status: 'ACTIVE', phone: activation.phone, priceMicros: activation.priceMicros });
    expect(await updateEvents(activation.id)).toBe(0);
  });

  it('asks the workflow by update when the event never reaches this API', async () => {
    // A hub on another deployment's channel: subscribed and connected, but our events never come.
    const subscriber = new Redis(system.config.env.REDIS_URL);
    const deaf = new ActivationEventHub({ subscriber, logger: system.container.logger, redisPrefix: `elsewhere-${randomUUID()}` });
    await deaf.start();
    system.container.activations.listenForNumbers(deaf);
    try {
      const customer = await system.customer(5_000_000n);
      const started = Date.now();
      const activation = await buy(system, customer, 'learns-by-update-1');
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
      expect(activation.phone).toMatch(/^\+\d{8,15}$/);
      expect(await updateEvents(activation.id)).toBe(2);

      // A purchase that fails fast has ended before the update could reach it: its row answers.
      const pair = await soldOutPair(system);
      const soldOut = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': 'learns-by-update-2' }, body: pair });
      expect(soldOut.status).toBe(409);
      expect(soldOut.body.error.code).toBe('NO_NUMBERS');
      expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    } finally {
      system.container.activations.listenForNumbers(system.api.events);
      await deaf.stop();
      subscriber.disconnect();
    }
  });
});

describe('SMS delivered by the provider webhook', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startWebhookSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('shows the code and captures the price without waiting for the poll', async () => {
    const tenants = (await system.sim('GET', '/control/tenants')).tenants as { id: string; settings: { webhookUrl: string } }[];
    for (const tenant of tenants) expect(tenant.settings.webhookUrl).toMatch(new RegExp(`^${system.api.url}/webhooks/providers/[a-z-]+\\?secret=`));

    const customer = await system.customer(5_000_000n);
    const activation = await buy(system, customer, 'purchase-webhook-1');
    const started = Date.now();
    await deliverSms(system, activation, '777888');

    const withCode = await waitForMessages(system, customer, activation.id, 1, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(withCode.messages[0].code).toBe('777888');
    expect(withCode.messages[0].text).toContain('777888');

    const settled = await waitForSettled(system, customer);
    expect(BigInt(settled.wallet.availableMicros)).toBe(5_000_000n - BigInt(activation.priceMicros));
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });
});

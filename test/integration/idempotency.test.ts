import { randomUUID } from 'node:crypto';
import { ActivationService } from '../../src/activations/activation.service';
import { soldOutPair, startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * The Idempotency-Key contract over real HTTP: a purchase retried (concurrently or later) is the
 * same purchase — one workflow, one activation row, one hold, one number bought upstream — and
 * an admin credit replayed with its key credits once.
 */

type Customer = Awaited<ReturnType<TestSystem['customer']>>;

/** Pairs every simulator tenant always sells (not Telegram in Indonesia: the workflow tests take it over while they run). */
const MAIN = { service: 'wa', country: 'ID' };
const OTHER = { service: 'tg', country: 'GB' };

describe('idempotent purchases and credits', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ polling: { initialMs: 200, maxMs: 1000 } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  /** Every number the simulator has sold, across both tenants. */
  async function upstreamNumbers(): Promise<{ tenant: string; id: number; phone: string; state: string }[]> {
    const all = [];
    for (const tenant of Object.keys(TENANT_PROVIDER)) {
      const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
      all.push(...activations.map((a: { id: number; phone: string; state: string }) => ({ tenant, ...a })));
    }
    return all;
  }

  async function moneyOf(customer: Customer) {
    const wallet = await system.container.db.wallet.findUniqueOrThrow({ where: { userId: customer.id } });
    const holds = await system.container.db.hold.findMany({ where: { walletId: wallet.id } });
    const entries = await system.container.db.ledgerEntry.findMany({ where: { walletId: wallet.id }, orderBy: { id: 'asc' } });
    const activations = await system.container.db.activation.findMany({ where: { userId: customer.id } });
    return { wallet, holds, entries, activations };
  }

  const purchase = (customer: Customer, key: string, body: Record<string, unknown> = MAIN) =>
    system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': key }, body });

  async function concurrentPurchases(count: number) {
    const customer = await system.customer(5_000_000n);
    const key = `concurrent-${count}-${randomUUID()}`;
    const numbersBefore = (await upstreamNumbers()).length;

    const responses = await Promise.all(Array.from({ length: count }, () => purchase(customer, key)));

    // One request made the purchase; every other one joined it.
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(count - 1).fill(200), 201]);
    const ids = new Set(responses.map((r) => r.body.activation.id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    const phones = new Set(responses.map((r) => r.body.activation.phone));
    expect(phones.size).toBe(1);
    for (const response of responses) expect(response.body.activation.status).toBe('ACTIVE');

    const { wallet, holds, entries, activations } = await moneyOf(customer);
    expect(activations.map((a) => a.id)).toEqual([id]);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ key: id, status: 'OPEN', amount: BigInt(responses[0].body.activation.heldMicros) });
    expect(entries.map((e) => e.kind)).toEqual(['CREDIT', 'HOLD']);
    expect(wallet.held).toBe(holds[0].amount);
    expect(wallet.available).toBe(5_000_000n - holds[0].amount);

    const numbersAfter = await upstreamNumbers();
    expect(numbersAfter).toHaveLength(numbersBefore + 1);
    expect(`+${numbersAfter.find((n) => `+${n.phone}` === responses[0].body.activation.phone)?.phone}`).toBe(responses[0].body.activation.phone);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    return { customer, key, activation: responses[0].body.activation };
  }

  it('two concurrent POSTs with one Idempotency-Key make one purchase', async () => {
    await concurrentPurchases(2);
  });

  it('ten concurrent POSTs with one Idempotency-Key make one purchase', async () => {
    await concurrentPurchases(10);
  });

  it('the same key returns the same activation (200) while it runs and after it completed', async () => {
    const customer = await system.customer(5_000_000n);
    const key = `replay-${randomUUID()}`;
    const first = await purchase(customer, key);
    expect(first.status).toBe(201);
    const activation = first.body.activation;

    const whileActive = await purchase(customer, key);
    expect(whileActive.status).toBe(200);
    expect(whileActive.body.activation).toMatchObject({ id: activation.id, phone: activation.phone, status: 'ACTIVE' });

    // Complete it: SMS, then finish.
    const tenant = Object.entries(TENANT_PROVIDER).find(([, p]) => p === activation.providerId)![0];
    const upstream = (await upstreamNumbers()).find((n) => `+${n.phone}` === activation.phone)!;
    await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code: '314159' });
    await waitFor(async () => {
      const current = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
      return current.body.activation.actions.finish === true;
    });
    const finished = await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    expect(finished.body.activation.status).toBe('COMPLETED');
    const before = await moneyOf(customer);
    const numbersBefore = (await upstreamNumbers()).length;

    // Same key and body: the purchase it named, not a new one; another body with the key is refused.
    const replay = await purchase(customer, key, MAIN);
    expect(replay.status).toBe(200);
    expect(replay.body.activation).toMatchObject({ id: activation.id, phone: activation.phone, status: 'COMPLETED', serviceCode: MAIN.service });
    expect(replay.body.activation.messages.map((m: { code: string }) => m.code)).toEqual(['314159']);
    for (const body of [OTHER, { ...MAIN, maxPriceMicros: '4000000' }]) {
      const reused = await purchase(customer, key, body);
      expect(reused.status).toBe(422);
      expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { activationId: activation.id } });
    }
    const after = await moneyOf(customer);
    expect(after.wallet).toEqual(before.wallet);
    expect(after.entries).toHaveLength(before.entries.length);
    expect(after.holds).toEqual(before.holds);
    expect(await upstreamNumbers()).toHaveLength(numbersBefore);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('a request refused before any purchase existed leaves its key free for the corrected retry', async () => {
    const customer = await system.customer(0n);
    const key = `refused-${randomUUID()}`;

    const unknown = await purchase(customer, key, { service: 'no-such-service', country: 'ID' });
    expect(unknown.status).toBe(404);
    const broke = await purchase(customer, key, MAIN);
    expect(broke.status).toBe(402);
    expect(broke.body.error.code).toBe('INSUFFICIENT_FUNDS');
    expect((await moneyOf(customer)).activations).toHaveLength(0);

    await system.request('POST', `/api/admin/wallets/${customer.id}/credit`, {
      token: system.adminToken,
      headers: { 'Idempotency-Key': `top-up-${randomUUID()}` },
      body: { amountMicros: '5000000' },
    });
    const bought = await purchase(customer, key, MAIN);
    expect(bought.status).toBe(201);
    expect(bought.body.activation.status).toBe('ACTIVE');
    expect((await purchase(customer, key, OTHER)).status).toBe(422);
    expect((await moneyOf(customer)).holds).toHaveLength(1);
  });

  it('a key of a purchase made before keys were claimed answers with that purchase (200), never a second one', async () => {
    const customer = await system.customer(5_000_000n);
    const key = `pre-claims-${randomUUID()}`;
    // What such a purchase left: its row under the id its key names, and no purchase_keys row.
    const id = ActivationService.activationIdFor(customer.id, key);
    await system.container.db.activation.create({
      data: { id, userId: customer.id, serviceCode: MAIN.service, countryIso: MAIN.country, status: 'EXPIRED', heldMicros: 100_000n, endedAt: new Date() },
    });
    const replayed = await purchase(customer, key);
    expect(replayed.status).toBe(200);
    expect(replayed.body.activation).toMatchObject({ id, status: 'EXPIRED' });
    const money = await moneyOf(customer);
    expect(money.activations).toHaveLength(1);
    expect(money.holds).toHaveLength(0);
  });

  it('a different user with the same key gets their own purchase', async () => {
    const { customer: alice, key, activation } = await concurrentPurchases(2);
    const bob = await system.customer(5_000_000n);
    const numbersBefore = (await upstreamNumbers()).length;

    const bobs = await purchase(bob, key);
    expect(bobs.status).toBe(201);
    expect(bobs.body.activation.id).not.toBe(activation.id);
    expect(bobs.body.activation.phone).not.toBe(activation.phone);
    expect(bobs.body.activation.userId).toBe(bob.id);
    expect(await upstreamNumbers()).toHaveLength(numbersBefore + 1);
    expect((await moneyOf(bob)).holds).toHaveLength(1);
    expect((await moneyOf(alice)).holds).toHaveLength(1);

    // Alice's replay is still hers.
    const replay = await purchase(alice, key);
    expect(replay.status).toBe(200);
    expect(replay.body.activation.id).toBe(activation.id);
  });

  it('concurrent retries of a purchase no provider can fill get the same refusal and one refunded hold', async () => {
    const pair = await soldOutPair(system);
    const customer = await system.customer(5_000_000n);
    const key = `sold-out-${randomUUID()}`;
    const numbersBefore = (await upstreamNumbers()).length;

    const responses = await Promise.all(Array.from({ length: 5 }, () => purchase(customer, key, pair)));
    const replay = await purchase(customer, key, pair);
    for (const response of [...responses, replay]) {
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('NO_NUMBERS');
    }
    expect(new Set([...responses, replay].map((r) => r.body.error.details.activationId)).size).toBe(1);

    const { wallet, holds, entries, activations } = await moneyOf(customer);
    expect(activations).toHaveLength(1);
    expect(activations[0]).toMatchObject({ status: 'FAILED', failureReason: 'NO_NUMBERS' });
    expect(holds).toHaveLength(1);
    expect(holds[0].status).toBe('RELEASED');
    expect(entries.map((e) => e.kind)).toEqual(['CREDIT', 'HOLD', 'RELEASE']);
    expect(wallet.available).toBe(5_000_000n);
    expect(wallet.held).toBe(0n);
    expect(await upstreamNumbers()).toHaveLength(numbersBefore);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('an admin credit replayed with the same Idempotency-Key credits once', async () => {
    const customer = await system.customer(0n);
    const key = `credit-${randomUUID()}`;
    const credit = (amountMicros: string) =>
      system.request('POST', `/api/admin/wallets/${customer.id}/credit`, {
        token: system.adminToken,
        headers: { 'Idempotency-Key': key },
        body: { amountMicros, memo: 'bank transfer 42' },
      });

    const first = await credit('2500000');
    expect(first.status).toBe(200);
    expect(first.body.wallet).toEqual({ availableMicros: '2500000', heldMicros: '0' });
    expect(first.body.entry).toMatchObject({ kind: 'CREDIT', availableDelta: '2500000', memo: 'bank transfer 42' });

    // Sequential and concurrent replays: same entry, same balance.
    const replays = [await credit('2500000'), ...(await Promise.all(Array.from({ length: 5 }, () => credit('2500000'))))];
    for (const replay of replays) {
      expect(replay.status).toBe(200);
      expect(replay.body.entry.id).toBe(first.body.entry.id);
      expect(replay.body.wallet).toEqual({ availableMicros: '2500000', heldMicros: '0' });
    }

    // The same key for another amount is refused, not a second credit.
    const other = await credit('1000000');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');

    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.body.wallet).toEqual({ availableMicros: '2500000', heldMicros: '0' });
    expect(wallet.body.ledger.map((e: { kind: string }) => e.kind)).toEqual(['CREDIT']);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });

  it('concurrent first credits with one key credit once', async () => {
    const customer = await system.customer(0n);
    const key = `credit-race-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        system.request('POST', `/api/admin/wallets/${customer.id}/credit`, {
          token: system.adminToken,
          headers: { 'Idempotency-Key': key },
          body: { amountMicros: 1_000_000 },
        }),
      ),
    );
    for (const response of responses) expect(response.status).toBe(200);
    expect(new Set(responses.map((r) => r.body.entry.id)).size).toBe(1);
    const { wallet, entries } = await moneyOf(customer);
    expect(wallet.available).toBe(1_000_000n);
    expect(entries).toHaveLength(1);
    expect(entries[0].memo).toBe('Admin credit');
  });
});

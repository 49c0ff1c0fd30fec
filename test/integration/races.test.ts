import { randomUUID } from 'node:crypto';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * Requests that race each other over real HTTP: many cancels of one activation, a customer's
 * cancel against an admin's, a finish against a cancel, and purchases sharing one
 * Idempotency-Key. A lost race is a 4xx naming the state that won, never a 5xx; money ends right.
 */

type Customer = Awaited<ReturnType<TestSystem['customer']>>;
type Answer = { status: number; body: any };

const MAIN = { service: 'wa', country: 'ID' };
const OTHER = { service: 'tg', country: 'GB' };
const CREDIT = 5_000_000n;

const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

describe('racing requests', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ polling: { initialMs: 200, maxMs: 1000 } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const purchase = (customer: Customer, key: string, body: Record<string, unknown> = MAIN) =>
    system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': key }, body });

  async function buy(customer: Customer) {
    const bought = await purchase(customer, `race-${randomUUID()}`);
    expect(bought.status).toBe(201);
    expect(bought.body.activation.status).toBe('ACTIVE');
    return bought.body.activation as { id: string; providerId: string; phone: string; actions: { cancel: boolean } };
  }

  const customerCancel = (customer: Customer, id: string) => system.request('POST', `/api/numbers/${id}/cancel`, { token: customer.token });
  const adminCancel = (id: string) => system.request('POST', `/api/admin/activations/${id}/cancel`, { token: system.adminToken });

  /** Every answer is the action done (200) or a refusal naming the activation's state (409); never a 5xx. */
  function expectWonOrRefused(answers: Answer[], refusals: string[]) {
    const unexpected = answers
      .filter((a) => a.status !== 200 && !(a.status === 409 && refusals.includes(a.body?.error?.code)))
      .map((a) => `${a.status} ${JSON.stringify(a.body)}`);
    expect(unexpected).toEqual([]);
  }

  async function expectSettled(customer: Customer, id: string, status: string) {
    const settled = await waitFor(async () => {
      const { body } = await system.request('GET', '/api/wallet', { token: customer.token });
      return body.wallet.heldMicros === '0' ? body : null;
    });
    const activation = await system.request('GET', `/api/numbers/${id}`, { token: customer.token });
    expect(activation.body.activation.status).toBe(status);
    const invariants = await system.request('GET', '/api/admin/invariants', { token: system.adminToken });
    expect(invariants.body.violations).toEqual([]);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    return { wallet: settled.wallet as { availableMicros: string }, ledger: settled.ledger.map((e: { kind: string }) => e.kind) as string[], activation: activation.body.activation };
  }

  async function deliverSms(activation: { providerId: string; phone: string }, code: string) {
    const tenant = tenantOf(activation.providerId);
    const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
    const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
    await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code });
  }

  it('20 concurrent cancels of one activation: each is done or refused as closed, and the money comes back once', async () => {
    const customer = await system.customer(CREDIT);
    const activation = await buy(customer);

    const answers = await Promise.all(Array.from({ length: 20 }, () => customerCancel(customer, activation.id)));

    expectWonOrRefused(answers, ['ACTIVATION_CLOSED']);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const answer of answers.filter((a) => a.status === 200)) expect(answer.body.activation.status).toBe('CANCELLED');
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.body.error.details).toMatchObject({ activationId: activation.id, status: 'CANCELLED' });
    const { wallet, ledger } = await expectSettled(customer, activation.id, 'CANCELLED');
    expect(wallet.availableMicros).toBe(CREDIT.toString());
    expect(ledger.sort()).toEqual(['CREDIT', 'HOLD', 'RELEASE']);
  });

  it('a customer cancel racing an admin cancel: one of them cancels, the other is refused, the refund happens once', async () => {
    for (let round = 0; round < 3; round++) {
      const customer = await system.customer(CREDIT);
      const activation = await buy(customer);

      const answers = await Promise.all([customerCancel(customer, activation.id), adminCancel(activation.id), customerCancel(customer, activation.id), adminCancel(activation.id)]);

      expectWonOrRefused(answers, ['ACTIVATION_CLOSED']);
      expect(answers.some((a) => a.status === 200)).toBe(true);
      for (const answer of answers.filter((a) => a.status === 409)) expect(answer.body.error.details).toMatchObject({ activationId: activation.id, status: 'CANCELLED' });
      const { wallet, ledger } = await expectSettled(customer, activation.id, 'CANCELLED');
      expect(wallet.availableMicros).toBe(CREDIT.toString());
      expect(ledger.sort()).toEqual(['CREDIT', 'HOLD', 'RELEASE']);
    }
  });

  it('after an SMS, finishes racing cancels: it ends completed, the cancels are refused, the price is captured once', async () => {
    const customer = await system.customer(CREDIT);
    const activation = await buy(customer);
    await deliverSms(activation, '271828');
    await waitFor(async () => (await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token })).body.activation.actions.finish === true);

    const finish = () => system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    const answers = await Promise.all([finish(), customerCancel(customer, activation.id), finish(), customerCancel(customer, activation.id), adminCancel(activation.id), finish()]);

    // A cancel finds the finish in flight, the SMS or the finished activation; a finish joins the
    // one in flight or finds the activation completed (also when the admin's cancel got there first).
    expectWonOrRefused(answers, ['ACTIVATION_CLOSED', 'SMS_ALREADY_RECEIVED', 'ACTION_IN_PROGRESS']);
    expect(answers.some((a) => a.status === 200)).toBe(true);
    for (const answer of answers.filter((a) => a.status === 200)) expect(answer.body.activation.status).toBe('COMPLETED');
    const { wallet, ledger, activation: completed } = await expectSettled(customer, activation.id, 'COMPLETED');
    expect(BigInt(wallet.availableMicros)).toBe(CREDIT - BigInt(completed.priceMicros));
    expect(ledger.sort()).toEqual(['CAPTURE', 'CREDIT', 'HOLD']);
  });

  it('is still a 500 when the workflow is missing rather than closed (no race: an error of ours)', async () => {
    const customer = await system.customer(CREDIT);
    // A row the workflow never wrote: its workflow does not exist, so "not found" is no lost race.
    const orphan = await system.container.db.activation.create({
      data: { id: `act-${randomUUID().replace(/-/g, '')}`, userId: customer.id, serviceCode: MAIN.service, countryIso: MAIN.country, status: 'ACTIVE', heldMicros: 0n },
    });

    for (const answer of [await customerCancel(customer, orphan.id), await adminCancel(orphan.id)]) {
      expect(answer.status).toBe(500);
      expect(answer.body.error.code).toBe('INTERNAL');
    }
    await system.container.db.activation.delete({ where: { id: orphan.id } });
  });

  it('one Idempotency-Key with three different bodies at once: one purchase (201), the others 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const customer = await system.customer(CREDIT);
    const key = `reuse-${randomUUID()}`;

    const answers = await Promise.all([purchase(customer, key, MAIN), purchase(customer, key, OTHER), purchase(customer, key, { ...MAIN, maxPriceMicros: '4000000' })]);

    expect(answers.map((a) => a.status).sort()).toEqual([201, 422, 422]);
    for (const refused of answers.filter((a) => a.status === 422)) expect(refused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const created = answers.find((a) => a.status === 201)!;
    const rows = await system.container.db.activation.findMany({ where: { userId: customer.id } });
    expect(rows.map((r) => r.id)).toEqual([created.body.activation.id]);
    const holds = await system.container.db.hold.findMany({ where: { wallet: { userId: customer.id } } });
    expect(holds).toHaveLength(1);

    // Later too: the key names that purchase, and only for the body it was made with.
    const replay = await purchase(customer, key, { service: created.body.activation.serviceCode, country: created.body.activation.countryIso, ...(answers.indexOf(created) === 2 ? { maxPriceMicros: '4000000' } : {}) });
    expect(replay.status).toBe(200);
    expect(replay.body.activation.id).toBe(created.body.activation.id);
  });

  it('two identical concurrent purchases with one key: one 201, one 200 with the same activation', async () => {
    for (let round = 0; round < 5; round++) {
      const customer = await system.customer(CREDIT);
      const key = `twin-${randomUUID()}`;

      const answers = await Promise.all([purchase(customer, key), purchase(customer, key)]);

      expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
      expect(answers[0].body.activation.id).toBe(answers[1].body.activation.id);
      // The twin waits for the number too: never the RESERVED row the workflow writes first.
      for (const answer of answers) expect(answer.body.activation.status).toBe('ACTIVE');
      expect(answers[0].body.activation.phone).toMatch(/^\+\d+$/);
      expect(answers[0].body.activation.phone).toBe(answers[1].body.activation.phone);
    }
  });
});

import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

describe('purchase through the HTTP API', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ polling: { initialMs: 200, maxMs: 1000 } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('buys a number, shows the SMS code and captures the price', async () => {
    const customer = await system.customer(5_000_000n);
    const bought = await system.request('POST', '/api/numbers', {
      token: customer.token,
      headers: { 'Idempotency-Key': 'purchase-happy-path-1' },
      body: { service: 'tg', country: 'ID' },
    });
    expect(bought.status).toBe(201);
    const activation = bought.body.activation;
    expect(activation.status).toBe('ACTIVE');
    expect(activation.phone).toMatch(/^\+\d{8,15}$/);
    const price = BigInt(activation.priceMicros);

    const held = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(held.body.wallet).toEqual({ availableMicros: (5_000_000n - BigInt(activation.heldMicros)).toString(), heldMicros: activation.heldMicros });

    const tenant = activation.providerId === 'hero-sim' ? 'hero' : 'activate';
    const upstream = (await system.sim('GET', `/control/${tenant}/activations`)).activations.at(-1);
    await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code: '424242' });

    const withCode = await waitFor(async () => {
      const current = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
      return current.body.activation.messages.length > 0 ? current.body.activation : null;
    });
    expect(withCode.messages[0].code).toBe('424242');
    expect(withCode.actions).toEqual({ cancel: false, retry: true, finish: true });

    const wallet = await waitFor(async () => {
      const current = await system.request('GET', '/api/wallet', { token: customer.token });
      return current.body.wallet.heldMicros === '0' ? current.body.wallet : null;
    });
    expect(BigInt(wallet.availableMicros)).toBe(5_000_000n - price);
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });
});

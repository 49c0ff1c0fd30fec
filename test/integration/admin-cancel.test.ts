import { randomUUID } from 'node:crypto';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * An admin cancel never hangs on the provider: before the provider's minimum age it answers at
 * once that the cancel is scheduled (the workflow carries it out), and a number whose SMS has
 * arrived is refused — the customer has the code, so it is finished, never "refunded".
 */

const PROVIDER = 'hero-sim';
const WANTED = { service: 'wa', country: 'ID' };
const MIN_CANCEL_SECONDS = 120;

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    tenants: () => [{ id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: MIN_CANCEL_SECONDS * 1000 }],
    providers: { [PROVIDER]: { minCancelSeconds: MIN_CANCEL_SECONDS } },
  });
});
afterAll(async () => {
  await system?.stop();
});

async function activeNumber() {
  const customer = await system.customer();
  const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': randomUUID() }, body: WANTED });
  expect(bought.status).toBe(201);
  return { customer, activation: bought.body.activation as { id: string; phone: string; cancelAllowedAt: string } };
}

const adminCancel = (id: string) => system.request('POST', `/api/admin/activations/${id}/cancel`, { token: system.adminToken });

describe('admin cancel', () => {
  it('inside the provider’s minimum age answers at once: scheduled for when the provider allows it', async () => {
    const { activation } = await activeNumber();
    const started = Date.now();
    const response = await adminCancel(activation.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.status).toBe(202);
    expect(response.body.cancellation).toEqual({ state: 'SCHEDULED', at: activation.cancelAllowedAt });
    expect(response.body.activation.status).toBe('ACTIVE');

    const audit = await system.request('GET', '/api/admin/audit?action=admin.activation.cancel', { token: system.adminToken });
    expect(audit.body.entries.map((e: { targetId: string }) => e.targetId)).toContain(activation.id);
  });

  it('of a number whose SMS has arrived is refused with 409: nothing is refunded or changed', async () => {
    const { customer, activation } = await activeNumber();
    const { activations } = await system.sim('GET', '/control/hero/activations');
    const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
    await system.sim('POST', `/control/hero/activations/${upstream.id}/sms`, { code: '515151' });
    await waitFor(async () => {
      const current = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
      return current.body.activation.messages.length > 0;
    });

    const response = await adminCancel(activation.id);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('SMS_ALREADY_RECEIVED');
    const after = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
    expect(after.body.activation.status).toBe('ACTIVE');
    expect(after.body.activation.actions.finish).toBe(true);
  });
});

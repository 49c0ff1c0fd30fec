import { randomUUID } from 'node:crypto';
import { sellPrice } from '../../src/lib/money';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * Providers as data (admin API, encrypted keys, markup overrides) and upstream reconciliation
 * (cost recovered on a confirmed cancel, an SMS after the refund recorded as an incident).
 */
describe('providers and reconciliation', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ polling: { initialMs: 60_000, maxMs: 60_000 } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const admin = (method: string, path: string, body?: unknown) => system.request(method, `/api/admin${path}`, { token: system.adminToken, body });

  it('lists providers without their keys, and stores keys only as envelopes', async () => {
    const listed = await admin('GET', '/providers');
    expect(listed.status).toBe(200);
    const hero = listed.body.providers.find((p: { id: string }) => p.id === 'hero-sim');
    expect(hero).toMatchObject({ hasApiKey: true, enabled: true, protocol: 'SMS_ACTIVATE' });
    expect(JSON.stringify(listed.body)).not.toContain('sim-hero-key');
    const [row] = await system.container.db.$queryRaw<{ api_key: string }[]>`SELECT api_key FROM providers WHERE id = 'hero-sim'`;
    expect(row.api_key.startsWith('v1.')).toBe(true);
    expect(row.api_key).not.toContain('sim-hero-key');
  });

  it('adds a provider by data and re-keys it; bad input is refused', async () => {
    const id = `extra-${randomUUID().slice(0, 8)}`;
    const created = await admin('POST', '/providers', {
      id,
      displayName: 'Extra',
      protocol: 'SMS_ACTIVATE',
      baseUrl: `${system.simulatorUrl}/activate/stubs/handler_api.php`,
      apiKey: 'sim-activate-key',
      enabled: false,
    });
    expect(created.status).toBe(201);
    expect(created.body.provider).toMatchObject({ id, enabled: false, hasApiKey: true });
    expect((await admin('POST', '/providers', { ...created.body.provider, apiKey: 'x' })).status).toBe(400);
    const patched = await admin('PATCH', `/providers/${id}`, { apiKey: 'rotated-key', markupBps: 4000 });
    expect(patched.status).toBe(200);
    expect(patched.body.provider.markupBps).toBe(4000);
    expect((await system.container.providers.get(id)).config.apiKey).toBe('rotated-key');
    expect((await admin('PATCH', '/providers/does-not-exist', { markupBps: 1 })).status).toBe(404);
    expect((await admin('PATCH', `/providers/${id}`, { markupBps: -5 })).status).toBe(400);
  });

  it('applies a service × country markup override at the next sync', async () => {
    const set = await admin('PUT', '/providers/hero-sim/markups', { serviceCode: 'tg', countryIso: 'id', markupBps: 10_000 });
    expect(set.status).toBe(200);
    expect((await admin('POST', '/providers/hero-sim/sync')).status).toBe(200);
    const offer = await system.container.db.offer.findUniqueOrThrow({ where: { providerId_serviceCode_countryIso: { providerId: 'hero-sim', serviceCode: 'tg', countryIso: 'ID' } } });
    expect(offer.sellMicros).toBe(sellPrice(offer.costMicros, 10_000));
    const other = await system.container.db.offer.findUniqueOrThrow({ where: { providerId_serviceCode_countryIso: { providerId: 'hero-sim', serviceCode: 'wa', countryIso: 'ID' } } });
    expect(other.sellMicros).toBe(sellPrice(other.costMicros, 2500));
    await admin('PUT', '/providers/hero-sim/markups', { serviceCode: 'tg', countryIso: 'ID', markupBps: null });
    await admin('POST', '/providers/hero-sim/sync');
  });

  it('records the upstream cost recovered on a confirmed cancel, and an SMS after the refund as an incident', async () => {
    const customer = await system.customer(5_000_000n);
    const bought = await system.request('POST', '/api/numbers', {
      token: customer.token,
      headers: { 'Idempotency-Key': `late-sms-${randomUUID()}` },
      body: { service: 'wa', country: 'ID' },
    });
    expect(bought.status).toBe(201);
    const activation = bought.body.activation;
    const cancelled = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.activation.status).toBe('CANCELLED');
    const row = await waitFor(async () => {
      const r = await system.container.db.activation.findUniqueOrThrow({ where: { id: activation.id } });
      return r.status === 'CANCELLED' ? r : null;
    });
    expect(row.costRecoveredMicros).toBe(row.costMicros);
    const walletAfterRefund = (await system.request('GET', '/api/wallet', { token: customer.token })).body.wallet;
    expect(walletAfterRefund).toEqual({ availableMicros: '5000000', heldMicros: '0' });

    // The provider's webhook reports an SMS for the number we already gave back.
    const providerId = activation.providerId as string;
    const late = await system.request('POST', `/webhooks/providers/${providerId}?secret=${encodeURIComponent(system.config.env.PROVIDER_WEBHOOK_SECRET)}`, {
      body: { activationId: Number(row.upstreamId), service: 'wa', text: 'Your WhatsApp code 123-456', code: '123456', country: 6, receivedAt: '2026-11-25 10:00:00' },
    });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ matched: true, late: true });
    const incidents = (await admin('GET', '/incidents')).body.incidents as { id: string; kind: string; activationId: string; details: { messages: { code: string }[] } }[];
    const incident = incidents.find((i) => i.activationId === activation.id);
    expect(incident).toMatchObject({ kind: 'LATE_SMS', details: { messages: [{ code: '123456' }] } });
    // Never charged for it, never dropped: the money stays refunded and an admin resolves the incident.
    expect((await system.request('GET', '/api/wallet', { token: customer.token })).body.wallet).toEqual(walletAfterRefund);
    expect((await admin('POST', `/incidents/${incident!.id}/resolve`)).status).toBe(200);
    expect((await admin('POST', `/incidents/${incident!.id}/resolve`)).status).toBe(404);
  });
});

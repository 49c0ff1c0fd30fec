import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { ActivationEventHub, redisActivationEvents } from '../../src/activations/live-events';
import { createLogger } from '../../src/lib/logger';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * What the customer web app reads from the API, against the whole back end: names instead of
 * codes everywhere (answers, live events, ledger lines), the cancel that opens when the
 * provider's delay is over although nothing woke the workflow, and `npm run sms` delivering an
 * SMS by SimGate's own activation id.
 */
jest.setTimeout(60_000);

const CANCEL_DELAY_S = 3;
let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    // No fallback poll within the test: only a webhook or an update wakes the workflow.
    polling: { initialMs: 60_000, maxMs: 60_000 },
    providers: { 'hero-sim': { minCancelSeconds: CANCEL_DELAY_S }, 'activate-sim': { minCancelSeconds: CANCEL_DELAY_S } },
    tenants: (webhookUrlFor) => [
      { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', minCancelMs: CANCEL_DELAY_S * 1000, webhookUrl: webhookUrlFor('hero-sim') },
      { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', minCancelMs: CANCEL_DELAY_S * 1000, webhookUrl: webhookUrlFor('activate-sim') },
    ],
  });
});

afterAll(async () => {
  await system?.stop();
});

async function buyTelegram(token: string) {
  const offers = await system.request('GET', '/api/catalog/offers?service=tg');
  const offer = offers.body.offers[0];
  const reply = await system.request('POST', '/api/numbers', { token, headers: { 'Idempotency-Key': randomUUID() }, body: { service: 'tg', country: offer.countryIso } });
  expect(reply.status).toBe(201);
  return { activation: reply.body.activation, offer };
}

describe('names, not codes', () => {
  it('every activation answer carries the catalog names and the dialling code', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation, offer } = await buyTelegram(customer.token);
    const names = { serviceName: 'Telegram', countryName: offer.countryName, countryDial: expect.stringMatching(/^\d+$/) };
    expect(activation).toEqual(expect.objectContaining({ serviceCode: 'tg', ...names }));
    expect(activation.phone.startsWith(`+${activation.countryDial}`)).toBe(true);
    const one = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
    expect(one.body.activation).toEqual(expect.objectContaining(names));
    const list = await system.request('GET', '/api/numbers', { token: customer.token });
    expect(list.body.activations[0]).toEqual(expect.objectContaining({ id: activation.id, ...names }));
    const cancelled = await waitFor(async () => {
      const reply = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
      return reply.status === 200 && reply.body.activation;
    });
    expect(cancelled).toEqual(expect.objectContaining({ status: 'CANCELLED', ...names }));
  });

  it('ledger lines about a number name it and link to it; a credit has no purchase', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation, offer } = await buyTelegram(customer.token);
    const wallet = await system.request('GET', '/api/wallet', { token: customer.token });
    expect(wallet.status).toBe(200);
    const hold = wallet.body.ledger.find((e: { kind: string }) => e.kind === 'HOLD');
    expect(hold.purchase).toEqual({ activationId: activation.id, serviceCode: 'tg', serviceName: 'Telegram', countryIso: offer.countryIso, countryName: offer.countryName });
    expect(wallet.body.ledger.find((e: { kind: string }) => e.kind === 'CREDIT').purchase).toBeNull();
    // Another user's purchase is never named for someone else.
    const other = await system.customer(0n);
    expect((await system.container.readModel.labels(other.id, [activation.id])).size).toBe(0);
  });

  it('live events reach the page with the names added, in the order they came', async () => {
    const subscriber = new Redis(system.config.env.REDIS_URL, { lazyConnect: true });
    const publisher = new Redis(system.config.env.REDIS_URL, { lazyConnect: true });
    await Promise.all([subscriber.connect(), publisher.connect()]);
    const redisPrefix = `customer-test-${randomUUID()}`;
    const hub = new ActivationEventHub({ subscriber, logger: createLogger('silent'), redisPrefix, names: (s, c) => system.container.readModel.names(s, c) });
    try {
      await hub.start();
      const frames: string[] = [];
      const userId = randomUUID();
      hub.subscribe(userId, (frame) => frames.push(frame));
      const events = redisActivationEvents(publisher, redisPrefix);
      const base = { id: 'act-live', userId, serviceCode: 'wa', countryIso: 'CO', providerId: null, phone: null, heldMicros: '1', priceMicros: null, expiresAt: null, cancelAllowedAt: null, failureReason: null, messages: [], actions: { cancel: false, retry: false, finish: false }, createdAt: new Date().toISOString() };
      for (const status of ['RESERVED', 'ACTIVE', 'CANCELLED'] as const) await events.publish({ userId, activationId: 'act-live', activation: { ...base, status } });
      await waitFor(async () => frames.length === 3);
      const shown = frames.map((frame) => JSON.parse(frame.split('data: ')[1]));
      expect(shown.map((a) => a.status)).toEqual(['RESERVED', 'ACTIVE', 'CANCELLED']);
      for (const a of shown) expect(a).toEqual(expect.objectContaining({ serviceName: 'WhatsApp', countryName: 'Colombia', countryDial: '57' }));
    } finally {
      await hub.stop();
      subscriber.disconnect();
      publisher.disconnect();
    }
  });
});

describe('success rate per offer', () => {
  it('each offer says how many numbers were bought and got their SMS, from provider health', async () => {
    const before = await system.request('GET', '/api/catalog/offers?service=tg');
    const offer = before.body.offers[0];
    expect(offer.delivery).toEqual({ purchases: expect.any(Number), smsReceived: expect.any(Number), windowHours: 24 });
    const customer = await system.customer(5_000_000n);
    const { activation } = await buyTelegram(customer.token);
    await system.sim('POST', `/control/${activation.providerId === 'hero-sim' ? 'hero' : 'activate'}/activations/${(await upstreamOf(activation)).id}/sms`, { code: '112233' });
    const after = await waitFor(async () => {
      const reply = await system.request('GET', `/api/catalog/offers?service=tg&country=${activation.countryIso}`);
      const d = reply.body.offers[0].delivery;
      return d.smsReceived > (activation.countryIso === offer.countryIso ? offer.delivery.smsReceived : -1) && d;
    });
    expect(after.purchases).toBeGreaterThanOrEqual(after.smsReceived);
  });
});

async function upstreamOf(activation: { providerId: string; phone: string }) {
  const tenant = activation.providerId === 'hero-sim' ? 'hero' : 'activate';
  const { activations } = await system.sim('GET', `/control/${tenant}/activations?phone=${encodeURIComponent(activation.phone)}`);
  return activations[0] as { id: number };
}

describe('cancel after the provider delay', () => {
  it('is offered once the delay is over, although nothing woke the workflow since the purchase', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation } = await buyTelegram(customer.token);
    expect(activation.actions.cancel).toBe(false);
    const early = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(early.status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(activation.cancelAllowedAt) - Date.now()) + 200));
    const now = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
    expect(now.body.activation).toEqual(expect.objectContaining({ status: 'ACTIVE', actions: { cancel: true, retry: false, finish: false } }));
    const cancelled = await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.activation.status).toBe('CANCELLED');
  });
});

describe('npm run sms -- <activation id> [code]', () => {
  const run = (args: string[]) =>
    promisify(execFile)(path.resolve('node_modules/.bin/tsx'), [path.resolve('src/bin/sms.ts'), ...args], { env: { ...process.env, LOG_LEVEL: 'silent' } }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );

  it('delivers an SMS by SimGate’s activation id (or its start), which reaches the activation', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation } = await buyTelegram(customer.token);
    const sent = await run([activation.id.slice(0, 16), '654321']);
    expect(sent).toEqual(expect.objectContaining({ code: 0 }));
    expect(sent.out).toContain(activation.id);
    const received = await waitFor(async () => {
      const reply = await system.request('GET', `/api/numbers/${activation.id}`, { token: customer.token });
      return reply.body.activation.messages.length > 0 && reply.body.activation;
    });
    expect(received.messages[0].code).toBe('654321');
  });

  it('says what is wrong instead of guessing', async () => {
    expect(await run([])).toEqual(expect.objectContaining({ code: 2 }));
    expect(await run(['act-0000000000000000000000000000dead'])).toEqual(expect.objectContaining({ code: 1, err: expect.stringContaining('no activation') }));
    expect(await run(['act-1234', 'not a code'])).toEqual(expect.objectContaining({ code: 2 }));
  });
});

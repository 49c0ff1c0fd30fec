import pino from 'pino';
import { providerConfigSchema } from '../../src/config/providers.config';
import { FivesimAdapter } from '../../src/providers/fivesim.adapter';
import { createProviderRegistry } from '../../src/providers/registry';
import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import type { ProviderErrorKind } from '../../src/providers/types';
import { createSimulator, FIVESIM_SIM_TOKEN, fivesimTenant } from '../../src/simulator';
import { expectKind } from '../support/rejections';
import { useSimulator } from '../support/simulator';

/**
 * The 5sim adapter against the simulator over real HTTP: buy / check / finish / cancel / ban,
 * prices, balance and active orders, and every documented phrase (injected with its HTTP status)
 * mapped to its ProviderError kind; garbage, 429, 5xx, hangs and dropped connections are TRANSIENT.
 */
const sim = useSimulator([fivesimTenant(), fivesimTenant({ id: 'loose', looseNumbers: true })]);
const { control } = sim;

beforeEach(async () => {
  for (const tenant of ['fivesim', 'loose']) await sim.reset(tenant, { offers: { 'telegram/england': { stock: 3, price: '0.35' } }, balance: '10.00' });
});

function adapterFor(overrides: { tenant?: string; apiKey?: string; timeoutMs?: number } = {}) {
  return new FivesimAdapter({
    id: '5sim-sim',
    baseUrl: `${sim.url}/${overrides.tenant ?? 'fivesim'}/v1`,
    apiKey: overrides.apiKey ?? FIVESIM_SIM_TOKEN,
    timeoutMs: overrides.timeoutMs ?? 2_000,
  });
}

const fault = (body: { action?: string; times: number; reply: unknown }) => control('POST', '/fivesim/faults', body);
const deliver = (id: string, code: string, text?: string) => control('POST', `/fivesim/activations/${id}/sms`, text === undefined ? { code } : { code, text });
const advance = (ms: number) => control('POST', '/clock', { advanceMs: ms });
const state = async (id: string) => (await control('GET', `/fivesim/activations/${id}`)).json.state;

let adapter: FivesimAdapter;
beforeEach(() => {
  adapter = adapterFor();
});
const buy = () => adapter.buy({ service: 'telegram', country: 'england' });

describe('buy', () => {
  it('buys with operator any: E.164 phone, string id, cost in micros', async () => {
    const bought = await adapter.buy({ service: 'telegram', country: 'england', maxPriceMicros: 350_000n });
    expect(bought).toEqual({ upstreamId: expect.stringMatching(/^\d+$/), phone: expect.stringMatching(/^\+44\d{10}$/), costMicros: 350_000n });
    expect(await adapter.getBalance()).toBe(9_650_000n);
  });

  it('keeps sub-cent prices exact', async () => {
    await control('PUT', '/fivesim/offers/whatsapp/england', { stock: 1, price: '0.014' });
    expect((await adapter.buy({ service: 'whatsapp', country: 'england' })).costMicros).toBe(14_000n);
  });

  it('maps the real refusals: `no free phones` (HTTP 200) is NO_NUMBERS, the rest REJECTED', async () => {
    await control('PUT', '/fivesim/offers/whatsapp/england', { stock: 0, price: '0.20' });
    await control('PUT', '/fivesim/offers/facebook/england', { stock: 5, price: '50' });
    await expectKind(adapter.buy({ service: 'whatsapp', country: 'england' }), 'NO_NUMBERS', 'no free phones');
    // A ceiling below every operator: 5sim says no free phones, not a price error.
    await expectKind(adapter.buy({ service: 'telegram', country: 'england', maxPriceMicros: 340_000n }), 'NO_NUMBERS', 'no free phones');
    const balance = await expectKind(adapter.buy({ service: 'facebook', country: 'england' }), 'REJECTED', 'not enough user balance');
    expect(balance.retryable).toBe(false);
    await expectKind(adapter.buy({ service: 'zzprobezz', country: 'england' }), 'REJECTED', 'no product');
    await expectKind(adapter.buy({ service: 'telegram', country: 'atlantis' }), 'REJECTED', 'bad country');
    await expectKind(adapterFor({ apiKey: 'eyJ.bad.token' }).buy({ service: 'telegram', country: 'england' }), 'REJECTED', 'unauthorized');
    expect(await adapter.getBalance()).toBe(10_000_000n);
  });
});

describe('order lifecycle', () => {
  it('reports WAITING while RECEIVED without SMS, then CODE with the newest SMS, then FINISHED', async () => {
    const { upstreamId } = await buy();
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING' });
    await deliver(upstreamId, '51234', 'Telegram code 51234');
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '51234', text: 'Telegram code 51234' });
    // No retry call on 5sim: the same order keeps receiving.
    await adapter.requestAnotherSms(upstreamId);
    await deliver(upstreamId, '777888', 'Telegram code 777888');
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '777888', text: 'Telegram code 777888' });
    await adapter.finish(upstreamId);
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'FINISHED', code: '777888' });
    // A repeated finish (a retry after a lost reply) resolves: the order is FINISHED.
    await expect(adapter.finish(upstreamId)).resolves.toBeUndefined();
  });

  it('reports WAITING while still PENDING', async () => {
    await control('PATCH', '/fivesim/settings', { allocationDelayMs: 60_000 });
    const { upstreamId } = await buy();
    expect(await state(upstreamId)).toBe('PENDING');
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING' });
  });

  it('takes the code from the text when 5sim leaves `code` empty', async () => {
    const { upstreamId } = await buy();
    await control('POST', '/fivesim/scenario', { name: 'wrong-code', mode: 'empty' });
    await deliver(upstreamId, '51234', 'Your Telegram code is 51234. Do not share it.');
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '51234', text: 'Your Telegram code is 51234. Do not share it.' });
  });

  it('refuses finish before a code with BAD_STATE `order no sms`; requestAnotherSms makes no call', async () => {
    const { upstreamId } = await buy();
    await expectKind(adapter.finish(upstreamId), 'BAD_STATE', 'order no sms');
    await fault({ times: 1, reply: { status: 500 } });
    await expect(adapter.requestAnotherSms(upstreamId)).resolves.toBeUndefined();
    expect((await control('GET', '/fivesim/faults')).json.faults).toHaveLength(1);
    await control('DELETE', '/fivesim/faults');
  });

  it('cancels, refunded; a repeated cancel resolves (`order expired`, then a check shows CANCELED)', async () => {
    const { upstreamId } = await buy();
    await adapter.cancel(upstreamId);
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
    expect(await adapter.getBalance()).toBe(10_000_000n);
    await expect(adapter.cancel(upstreamId)).resolves.toBeUndefined();
  });

  it('reports a cancel after an SMS as HAS_SMS, live or finished', async () => {
    const { upstreamId } = await buy();
    await deliver(upstreamId, '51234');
    await expectKind(adapter.cancel(upstreamId), 'HAS_SMS', 'order has sms');
    await expectKind(adapter.ban(upstreamId), 'HAS_SMS', 'order has sms');
    await adapter.finish(upstreamId);
    await expectKind(adapter.cancel(upstreamId), 'HAS_SMS', 'order expired');
  });

  it('reports the cancel lock as EARLY_CANCEL `you need to wait time`', async () => {
    await control('PATCH', '/fivesim/settings', { minCancelMs: 30_000 });
    const { upstreamId } = await buy();
    const error = await expectKind(adapter.cancel(upstreamId), 'EARLY_CANCEL', 'you need to wait time');
    expect(error.retryAfterMs).toBeUndefined();
    await advance(30_000);
    await adapter.cancel(upstreamId);
  });

  it('sees 5sim’s own expiry: TIMEOUT is CANCELLED and cancel resolves; with an SMS it is FINISHED', async () => {
    const silent = await buy();
    const answered = await buy();
    await deliver(answered.upstreamId, '51234');
    await advance(15 * 60_000);
    expect(await adapter.getStatus(silent.upstreamId)).toEqual({ state: 'CANCELLED' });
    await expect(adapter.cancel(silent.upstreamId)).resolves.toBeUndefined();
    await expectKind(adapter.finish(silent.upstreamId), 'BAD_STATE', 'order expired');
    expect(await adapter.getStatus(answered.upstreamId)).toEqual({ state: 'FINISHED', code: '51234' });
    await expect(adapter.finish(answered.upstreamId)).resolves.toBeUndefined();
  });

  it('bans: BANNED, refunded, reported as CANCELLED; cancel after a ban resolves', async () => {
    const { upstreamId } = await buy();
    await adapter.ban(upstreamId);
    expect(await state(upstreamId)).toBe('BANNED');
    expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
    expect(await adapter.getBalance()).toBe(10_000_000n);
    await expect(adapter.cancel(upstreamId)).resolves.toBeUndefined();
    await expect(adapter.ban(upstreamId)).resolves.toBeUndefined();
  });

  it('answers NOT_FOUND for an order the account does not have', async () => {
    for (const id of ['1', 'abc']) {
      await expectKind(adapter.getStatus(id), 'NOT_FOUND', 'order not found');
      await expectKind(adapter.cancel(id), 'NOT_FOUND', 'order not found');
      await expectKind(adapter.finish(id), 'NOT_FOUND', 'order not found');
      await expectKind(adapter.ban(id), 'NOT_FOUND', 'order not found');
    }
  });
});

describe('prices, balance and active orders', () => {
  beforeEach(async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 4, price: '0.20', rate: null });
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual53', stock: 0, price: '0.10' });
  });

  it('flattens /guest/prices to the cheapest operator in stock with the stock summed', async () => {
    const all = await adapter.getPrices();
    expect(all).toContainEqual({ service: 'telegram', country: 'england', costMicros: 200_000n, stock: 7 });
    expect(all.length).toBeGreaterThan(300);
    expect(await adapter.getPrices({ service: 'telegram', country: 'england' })).toEqual([{ service: 'telegram', country: 'england', costMicros: 200_000n, stock: 7 }]);
  });

  it('reads the inverted ?product= nesting and the one-country list', async () => {
    const telegram = await adapter.getPrices({ service: 'telegram' });
    expect(new Set(telegram.map((price) => price.service))).toEqual(new Set(['telegram']));
    expect(telegram).toContainEqual({ service: 'telegram', country: 'england', costMicros: 200_000n, stock: 7 });
    expect(telegram.length).toBeGreaterThan(10);
    const england = await adapter.getPrices({ country: 'england' });
    expect(new Set(england.map((price) => price.country))).toEqual(new Set(['england']));
    expect(england).toContainEqual({ service: 'telegram', country: 'england', costMicros: 200_000n, stock: 7 });
  });

  it('turns the literal `null` into no prices, and prices a sold-out pair at its cheapest operator', async () => {
    const catalog = sim.tenants.get('fivesim')!.catalog;
    for (const offer of catalog.listOffers({ service: 'telegram', country: 'england' })) catalog.deleteOffer(offer);
    expect(await adapter.getPrices({ service: 'telegram', country: 'england' })).toEqual([]);
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual21', stock: 0, price: '0.30' });
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 0, price: '0.25' });
    expect(await adapter.getPrices({ service: 'telegram', country: 'england' })).toEqual([{ service: 'telegram', country: 'england', costMicros: 250_000n, stock: 0 }]);
  });

  it('reads string counts', async () => {
    await control('PUT', '/loose/offers/telegram/england', { stock: 12, price: '0.35' });
    expect(await adapterFor({ tenant: 'loose' }).getPrices({ service: 'telegram', country: 'england' })).toEqual([
      { service: 'telegram', country: 'england', costMicros: 350_000n, stock: 12 },
    ]);
  });

  it('reads the balance in micros from the profile', async () => {
    await control('PUT', '/fivesim/balance', { balance: '1234.567891' });
    expect(await adapter.getBalance()).toBe(1_234_567_891n);
  });

  it('lists live orders (PENDING/RECEIVED), oldest first, codes from sms[]; [] when none', async () => {
    expect(await adapter.getActiveActivations()).toEqual([]);
    const first = await buy();
    const second = await buy();
    const cancelled = await buy();
    await deliver(second.upstreamId, '51234', 'Telegram code 51234');
    await adapter.cancel(cancelled.upstreamId);
    expect(await adapter.getActiveActivations()).toEqual([
      { upstreamId: first.upstreamId, service: 'telegram', phone: first.phone, codes: [], text: null },
      { upstreamId: second.upstreamId, service: 'telegram', phone: second.phone, codes: ['51234'], text: 'Telegram code 51234' },
    ]);
    await adapter.finish(second.upstreamId);
    expect((await adapter.getActiveActivations()).map((a) => a.upstreamId)).toEqual([first.upstreamId]);
  });

  it('reads string ids in the order list', async () => {
    const loose = adapterFor({ tenant: 'loose' });
    const bought = await loose.buy({ service: 'telegram', country: 'england' });
    expect(await loose.getActiveActivations()).toEqual([{ upstreamId: bought.upstreamId, service: 'telegram', phone: bought.phone, codes: [], text: null }]);
  });
});

describe('every documented phrase, injected with its HTTP status', () => {
  it.each<[number, string, ProviderErrorKind]>([
    [200, 'no free phones', 'NO_NUMBERS'],
    [400, 'not enough user balance', 'REJECTED'],
    [400, 'not enough rating', 'REJECTED'],
    [400, 'select country', 'REJECTED'],
    [400, 'select operator', 'REJECTED'],
    [400, 'bad country', 'REJECTED'],
    [400, 'bad operator', 'REJECTED'],
    [400, 'no product', 'REJECTED'],
    [400, 'country is incorrect', 'REJECTED'],
    [400, 'product is incorrect', 'REJECTED'],
    [400, 'reuse not possible', 'REJECTED'],
    [401, '', 'REJECTED'],
    [401, 'token expired', 'REJECTED'],
    [400, 'order has sms', 'HAS_SMS'],
    [400, 'you need to wait time', 'EARLY_CANCEL'],
    [400, 'order not found', 'NOT_FOUND'],
    [404, 'order not found', 'NOT_FOUND'],
    [404, 'record not found', 'NOT_FOUND'],
    [400, 'order expired', 'BAD_STATE'],
    [400, 'order no sms', 'BAD_STATE'],
    [400, 'hosting order', 'BAD_STATE'],
    [400, 'server offline', 'TRANSIENT'],
    [429, 'api limit is 100 requests per second', 'TRANSIENT'],
    [503, 'ip address limit is 100 requests per second', 'TRANSIENT'],
    [500, 'internal error', 'TRANSIENT'],
    [400, 'something new', 'TRANSIENT'],
  ])('HTTP %i `%s` → %s', async (status, body, kind) => {
    await fault({ action: 'profile', times: 1, reply: { status, body } });
    const error = await expectKind(adapter.getBalance(), kind);
    expect(error.retryable).toBe(kind === 'TRANSIENT');
  });

  it('maps an injected refusal on each order call', async () => {
    const { upstreamId } = await buy();
    await fault({ action: 'check', times: 1, reply: { status: 404, body: 'order not found' } });
    await expectKind(adapter.getStatus(upstreamId), 'NOT_FOUND');
    await fault({ action: 'finish', times: 1, reply: { status: 400, body: 'hosting order' } });
    await expectKind(adapter.finish(upstreamId), 'BAD_STATE', 'hosting order');
    await fault({ action: 'cancel', times: 1, reply: { status: 400, body: 'you need to wait time' } });
    await expectKind(adapter.cancel(upstreamId), 'EARLY_CANCEL');
    await fault({ action: 'buy', times: 1, reply: { status: 200, body: 'no free phones' } });
    await expectKind(buy(), 'NO_NUMBERS');
  });
});

describe('transport failures are TRANSIENT', () => {
  it.each([
    ['HTTP 500', { status: 500 }, 'HTTP 500'],
    ['HTTP 503 with an HTML page', { status: 503, body: '<html>Service Unavailable</html>' }, 'HTTP 503'],
    ['HTTP 429', { status: 429, body: 'api limit is 100 requests per second' }, 'api limit is 100 requests per second'],
    ['a garbage 200', { status: 200, body: '<html>maintenance</html>' }, 'UNPARSEABLE'],
    ['an empty 200', { status: 200, body: '' }, 'UNPARSEABLE'],
    ['a JSON 400', { status: 400, body: '{"error":"bad"}' }, 'HTTP 400'],
  ])('%s', async (_name, reply, token) => {
    await fault({ action: 'profile', times: 1, reply });
    await expectKind(adapterFor({ timeoutMs: 500 }).getBalance(), 'TRANSIENT', token);
  });

  it('a JSON reply of the wrong shape', async () => {
    await fault({ action: 'buy', times: 1, reply: { status: 200, body: '{"unexpected":true}' } });
    await expectKind(buy(), 'TRANSIENT', 'UNEXPECTED_REPLY');
    await fault({ action: 'check', times: 1, reply: { status: 200, body: '{"id":1,"phone":"+4470","status":"WEIRD"}' } });
    await expectKind(adapter.getStatus('1'), 'TRANSIENT', 'UNEXPECTED_REPLY');
  });

  it('the rate limit of the simulator itself', async () => {
    await control('PATCH', '/fivesim/settings', { rateLimitPerSecond: 1 });
    await adapter.getBalance();
    await expectKind(adapter.getBalance(), 'TRANSIENT', 'api limit is 100 requests per second');
  });

  it('a reply slower than the timeout, without leaking the token', async () => {
    await fault({ action: 'profile', times: 1, reply: { latencyMs: 400 } });
    const started = Date.now();
    const error = await expectKind(adapterFor({ timeoutMs: 60 }).getBalance(), 'TRANSIENT', 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(350);
    expect(error.message).not.toContain(FIVESIM_SIM_TOKEN);
  });

  it('a dropped connection', async () => {
    await fault({ action: 'profile', times: 1, reply: { hangUp: true } });
    await expectKind(adapter.getBalance(), 'TRANSIENT', 'NETWORK');
  });

  it('a refused connection', async () => {
    const gone = createSimulator({ tenants: [fivesimTenant({ id: 'x' })], logger: pino({ level: 'silent' }) });
    const { url } = await gone.listen(0);
    await gone.close();
    const error = await expectKind(new FivesimAdapter({ id: 'gone', baseUrl: `${url}/x/v1/`, apiKey: 'secret-token', timeoutMs: 1000 }).getBalance(), 'TRANSIENT', 'NETWORK');
    expect(error.message).not.toContain('secret-token');
  });
});

describe('registry', () => {
  it('builds a FivesimAdapter for protocol FIVESIM and an SmsActivateAdapter otherwise', async () => {
    const registry = createProviderRegistry([
      providerConfigSchema.parse({ id: 'five', displayName: '5sim', protocol: 'FIVESIM', baseUrl: `${sim.url}/fivesim/v1`, apiKey: FIVESIM_SIM_TOKEN, countryIds: 'fivesim' }),
      providerConfigSchema.parse({ id: 'hero', displayName: 'Hero', protocol: 'SMS_ACTIVATE', baseUrl: `${sim.url}/x/stubs/handler_api.php`, apiKey: 'k' }),
    ]);
    expect((await registry.get('five')).adapter).toBeInstanceOf(FivesimAdapter);
    expect((await registry.get('hero')).adapter).toBeInstanceOf(SmsActivateAdapter);
    expect(await (await registry.get('five')).adapter.getBalance()).toBe(10_000_000n);
    expect(providerConfigSchema.safeParse({ id: 'x1', displayName: 'x', protocol: 'OTHER', baseUrl: sim.url, apiKey: 'k' }).success).toBe(false);
  });
});

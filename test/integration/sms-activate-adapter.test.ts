import pino from 'pino';
import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import type { ProviderErrorKind } from '../../src/providers/types';
import { createSimulator } from '../../src/simulator';
import { expectKind } from '../support/rejections';
import { HANDLER_API_KEYS as KEYS, HANDLER_API_TENANTS, useSimulator } from '../support/simulator';

/**
 * The SMS-Activate adapter against the simulator over real HTTP, in both error styles: classic
 * (HTTP 200 + bare tokens) and HeroSMS (status-coded JSON). Fault injection makes the simulator
 * answer every documented token, 5xx, garbage, slow replies and dropped connections.
 */
const STYLES = ['classic', 'hero'] as const;
type Style = (typeof STYLES)[number];

const sim = useSimulator(HANDLER_API_TENANTS);
const { control } = sim;

beforeEach(async () => {
  for (const tenant of Object.keys(KEYS)) await sim.reset(tenant, { offers: { 'tg/6': { stock: 3, price: '0.35' } }, balance: '10.00' });
});

function adapterFor(tenant: Style | 'clone', overrides: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}) {
  return new SmsActivateAdapter({
    id: `${tenant}-sim`,
    baseUrl: overrides.baseUrl ?? `${sim.url}/${tenant}/stubs/handler_api.php`,
    apiKey: overrides.apiKey ?? KEYS[tenant],
    timeoutMs: overrides.timeoutMs ?? 2_000,
  });
}

const fault = (tenant: string, body: { action?: string; times: number; reply: unknown }) => control('POST', `/${tenant}/faults`, body);
const deliver = (tenant: string, id: string, code: string) => control('POST', `/${tenant}/activations/${id}/sms`, { code });
const advance = (ms: number) => control('POST', '/clock', { advanceMs: ms });

describe.each(STYLES)('%s provider', (style) => {
  let adapter: SmsActivateAdapter;
  beforeEach(() => {
    adapter = adapterFor(style);
  });
  const buy = () => adapter.buy({ service: 'tg', country: '6' });

  describe('buy', () => {
    it('buys with getNumberV2: E.164 phone, string id, cost in micros', async () => {
      const bought = await adapter.buy({ service: 'tg', country: '6', maxPriceMicros: 350_000n });
      expect(bought).toEqual({ upstreamId: expect.stringMatching(/^\d+$/), phone: expect.stringMatching(/^\+62\d{10}$/), costMicros: 350_000n });
      expect(await adapter.getBalance()).toBe(9_650_000n);
    });

    it('keeps sub-cent prices exact', async () => {
      await control('PUT', `/${style}/offers/wa/6`, { stock: 1, price: '0.014' });
      expect((await adapter.buy({ service: 'wa', country: '6' })).costMicros).toBe(14_000n);
    });

    it('falls back to getNumber when getNumberV2 is unknown, and stays there', async () => {
      await fault(style, { action: 'getNumberV2', times: 1, reply: { token: 'BAD_ACTION' } });
      const bought = await buy();
      expect(bought).toEqual({ upstreamId: expect.stringMatching(/^\d+$/), phone: expect.stringMatching(/^\+62\d{10}$/), costMicros: null });
      // A second buy goes straight to getNumber: this getNumberV2 fault is never consumed.
      await fault(style, { action: 'getNumberV2', times: 1, reply: { status: 500 } });
      await buy();
      expect((await control('GET', `/${style}/faults`)).json.faults).toHaveLength(1);
    });

    it('accepts the classic ACCESS_NUMBER token as an answer to getNumberV2', async () => {
      await fault(style, { action: 'getNumberV2', times: 1, reply: { status: 200, body: 'ACCESS_NUMBER:3412345678:6281234567890' } });
      expect(await buy()).toEqual({ upstreamId: '3412345678', phone: '+6281234567890', costMicros: null });
    });

    it('maps real refusals: NO_NUMBERS, WRONG_MAX_PRICE, NO_BALANCE, BAD_SERVICE, BAD_COUNTRY, BAD_KEY', async () => {
      await control('PUT', `/${style}/offers/wa/6`, { stock: 0, price: '0.20' });
      await control('PUT', `/${style}/offers/go/6`, { stock: 5, price: '50' });
      await expectKind(adapter.buy({ service: 'wa', country: '6' }), 'NO_NUMBERS', 'NO_NUMBERS');
      const maxPrice = await expectKind(adapter.buy({ service: 'tg', country: '6', maxPriceMicros: 340_000n }), 'REJECTED', 'WRONG_MAX_PRICE');
      expect(maxPrice.retryable).toBe(false);
      await expectKind(adapter.buy({ service: 'go', country: '6' }), 'REJECTED', 'NO_BALANCE');
      await expectKind(adapter.buy({ service: 'nope', country: '6' }), 'REJECTED', 'BAD_SERVICE');
      await expectKind(adapter.buy({ service: 'tg', country: '9999' }), 'REJECTED', 'BAD_COUNTRY');
      await expectKind(adapterFor(style, { apiKey: 'wrong' }).buy({ service: 'tg', country: '6' }), 'REJECTED', 'BAD_KEY');
      expect(await adapter.getBalance()).toBe(10_000_000n);
    });
  });

  describe('activation lifecycle', () => {
    it('reports WAITING → CODE → WAITING_RETRY → CODE, then finishes', async () => {
      const { upstreamId } = await buy();
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING' });
      await deliver(style, upstreamId, '51234');
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '51234', text: null });
      await adapter.requestAnotherSms(upstreamId);
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING_RETRY', lastCode: '51234' });
      await deliver(style, upstreamId, '777888');
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '777888', text: null });
      await adapter.finish(upstreamId);
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CODE', code: '777888', text: null });
      await expectKind(adapter.finish(upstreamId), 'BAD_STATE', 'BAD_STATUS');
    });

    it('refuses finish and another SMS before a code with BAD_STATE', async () => {
      const { upstreamId } = await buy();
      await expectKind(adapter.finish(upstreamId), 'BAD_STATE', 'BAD_STATUS');
      await expectKind(adapter.requestAnotherSms(upstreamId), 'BAD_STATE', 'BAD_STATUS');
    });

    it('cancels after the minimum age, and resolves again when already cancelled', async () => {
      const { upstreamId } = await buy();
      await advance(120_000);
      await adapter.cancel(upstreamId);
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
      expect(await adapter.getBalance()).toBe(10_000_000n);
      await expect(adapter.cancel(upstreamId)).resolves.toBeUndefined();
    });

    it('reports an early cancel as EARLY_CANCEL', async () => {
      const { upstreamId } = await buy();
      const error = await expectKind(adapter.cancel(upstreamId), 'EARLY_CANCEL', 'EARLY_CANCEL_DENIED');
      // Only HeroSMS says how long the window is.
      expect(error.retryAfterMs).toBe(style === 'hero' ? 120_000 : undefined);
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'WAITING' });
    });

    it('reports a cancel after a code as HAS_SMS, also while waiting for a retry and after finish', async () => {
      const { upstreamId } = await buy();
      await advance(120_000);
      await deliver(style, upstreamId, '51234');
      await expectKind(adapter.cancel(upstreamId), 'HAS_SMS', 'BAD_STATUS');
      await adapter.requestAnotherSms(upstreamId);
      await expectKind(adapter.cancel(upstreamId), 'HAS_SMS');
      await adapter.finish(upstreamId);
      await expectKind(adapter.cancel(upstreamId), 'HAS_SMS');
    });

    it('sees the provider’s own expiry: no code → CANCELLED, so cancel resolves', async () => {
      const { upstreamId } = await buy();
      await advance(20 * 60_000);
      expect(await adapter.getStatus(upstreamId)).toEqual({ state: 'CANCELLED' });
      await expect(adapter.cancel(upstreamId)).resolves.toBeUndefined();
    });

    it('answers NOT_FOUND for an activation the provider does not know', async () => {
      await expectKind(adapter.getStatus('1'), 'NOT_FOUND', 'NO_ACTIVATION');
      await expectKind(adapter.cancel('1'), 'NOT_FOUND', 'NO_ACTIVATION');
      await expectKind(adapter.finish('1'), 'NOT_FOUND', 'NO_ACTIVATION');
      await expectKind(adapter.requestAnotherSms('1'), 'NOT_FOUND', 'NO_ACTIVATION');
    });
  });

  describe('catalog, balance and active activations', () => {
    it('flattens getPrices, with filters', async () => {
      const all = await adapter.getPrices();
      expect(all).toContainEqual({ service: 'tg', country: '6', costMicros: 350_000n, stock: 3 });
      expect(all.length).toBeGreaterThan(100);
      expect(await adapter.getPrices({ service: 'tg', country: '6' })).toEqual([{ service: 'tg', country: '6', costMicros: 350_000n, stock: 3 }]);
      const telegram = await adapter.getPrices({ service: 'tg' });
      expect(new Set(telegram.map((price) => price.service))).toEqual(new Set(['tg']));
    });

    it('reads the balance in micros', async () => {
      await control('PUT', `/${style}/balance`, { balance: '1234.567891' });
      expect(await adapter.getBalance()).toBe(1_234_567_891n);
    });

    it('lists active activations, [] when there are none', async () => {
      expect(await adapter.getActiveActivations()).toEqual([]);
      const first = await buy();
      const second = await buy();
      await deliver(style, second.upstreamId, '51234');
      expect(await adapter.getActiveActivations()).toEqual([
        { upstreamId: first.upstreamId, service: 'tg', phone: first.phone, codes: [], text: null },
        { upstreamId: second.upstreamId, service: 'tg', phone: second.phone, codes: ['51234'], text: expect.stringContaining('51234') },
      ]);
      await adapter.finish(second.upstreamId);
      expect((await adapter.getActiveActivations()).map((a) => a.upstreamId)).toEqual([first.upstreamId]);
    });
  });

  describe('extras: getStatusV2, getTopCountriesByService, getCountries, getServicesList', () => {
    it('getStatusV2: no SMS yet, then the latest SMS with its text, CANCELLED once cancelled', async () => {
      const { upstreamId } = await buy();
      expect(await adapter.getStatusV2(upstreamId)).toEqual({ state: 'ACTIVE', verificationType: 0, sms: null, call: null });
      await control('POST', `/${style}/activations/${upstreamId}/sms`, { code: '51234', text: 'Telegram code 51234' });
      expect(await adapter.getStatusV2(upstreamId)).toEqual({
        state: 'ACTIVE',
        verificationType: 0,
        sms: { code: '51234', text: 'Telegram code 51234', receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) },
        call: null,
      });
      const other = await buy();
      await advance(120_000);
      await adapter.cancel(other.upstreamId);
      expect(await adapter.getStatusV2(other.upstreamId)).toEqual({ state: 'CANCELLED' });
      await expectKind(adapter.getStatusV2('1'), 'NOT_FOUND', 'NO_ACTIVATION');
    });

    it('getTopCountriesByService: most stock first, with the free-price ladder when asked', async () => {
      await control('PUT', `/${style}/offers/tg/16`, { stock: 9000, price: '0.50' });
      const top = await adapter.getTopCountriesByService('tg');
      expect(top[0]).toEqual({ country: '16', stock: 9000, costMicros: 500_000n, retailMicros: 1_000_000n, freePrices: null });
      expect(top).toContainEqual({ country: '6', stock: 3, costMicros: 350_000n, retailMicros: 700_000n, freePrices: null });
      expect(top.map((row) => row.stock)).toEqual([...top.map((row) => row.stock)].sort((a, b) => b - a));
      const free = await adapter.getTopCountriesByService('tg', { freePrice: true });
      expect(free[0].freePrices).toEqual([
        { costMicros: 500_000n, stock: 8100 },
        { costMicros: 600_000n, stock: 900 },
      ]);
      for (const row of free) expect(row.freePrices!.reduce((sum, step) => sum + step.stock, 0)).toBe(row.stock);
      await expectKind(adapter.getTopCountriesByService('nope'), 'REJECTED', 'BAD_SERVICE');
    });

    it('getCountries: the provider’s own numbering', async () => {
      const countries = await adapter.getCountries();
      expect(countries).toContainEqual({ id: '6', nameEn: 'Indonesia', nameRu: 'Индонезия', visible: true });
      if (style === 'hero') expect(countries).toContainEqual({ id: '222', nameEn: 'Russia', nameRu: 'Россия', visible: false });
      else expect(countries).toContainEqual({ id: '0', nameEn: 'Russia', nameRu: 'Россия', visible: true });
    });

    it('getServicesList: every service, or those sold in one country', async () => {
      const services = await adapter.getServicesList();
      expect(services).toEqual(expect.arrayContaining([{ code: 'tg', name: 'Telegram' }, { code: 'wa', name: 'WhatsApp' }]));
      const inIndonesia = await adapter.getServicesList({ country: '6', lang: 'en' });
      expect(inIndonesia.map((service) => service.code)).toContain('tg');
      expect(inIndonesia.length).toBeLessThanOrEqual(services.length);
      await expectKind(adapter.getServicesList({ country: '9999' }), 'REJECTED', 'BAD_COUNTRY');
    });

    it('parses the error style on every extra action', async () => {
      for (const action of ['getStatusV2', 'getTopCountriesByService', 'getCountries', 'getServicesList']) {
        await fault(style, { action, times: 1, reply: { token: 'BAD_KEY' } });
      }
      await expectKind(adapter.getStatusV2('1'), 'REJECTED', 'BAD_KEY');
      await expectKind(adapter.getTopCountriesByService('tg'), 'REJECTED', 'BAD_KEY');
      await expectKind(adapter.getCountries(), 'REJECTED', 'BAD_KEY');
      await expectKind(adapter.getServicesList(), 'REJECTED', 'BAD_KEY');
      await fault(style, { action: 'getCountries', times: 1, reply: { token: 'ERROR_SQL' } });
      await expectKind(adapter.getCountries(), 'TRANSIENT', 'ERROR_SQL');
    });
  });

  describe('every documented token, injected', () => {
    it.each<[string, ProviderErrorKind]>([
      ['NO_NUMBERS', 'NO_NUMBERS'],
      ['NO_KEY', 'REJECTED'],
      ['BAD_KEY', 'REJECTED'],
      ['BAD_ACTION', 'REJECTED'],
      ['BAD_SERVICE', 'REJECTED'],
      ['WRONG_SERVICE', 'REJECTED'],
      ['BAD_COUNTRY', 'REJECTED'],
      ['NO_BALANCE', 'REJECTED'],
      ['WRONG_MAX_PRICE:0.50', 'REJECTED'],
      ['BANNED:2026-1-5 10-00-00', 'REJECTED'],
      ['CHANNELS_LIMIT', 'REJECTED'],
      ['WRONG_OPERATOR', 'REJECTED'],
      ['BAD_OPERATOR', 'REJECTED'],
      ['OPERATORS_NOT_FOUND', 'REJECTED'],
      ['WRONG_EXCEPTION_PHONE', 'REJECTED'],
      ['SERVICE_UNAVAILABLE_REGION', 'REJECTED'],
      ['EARLY_CANCEL_DENIED', 'EARLY_CANCEL'],
      ['BAD_STATUS', 'BAD_STATE'],
      ['NO_ACTIVATION', 'NOT_FOUND'],
      ['WRONG_ACTIVATION_ID', 'NOT_FOUND'],
      ['ERROR_SQL', 'TRANSIENT'],
      ['SOMETHING_NEW', 'TRANSIENT'],
    ])('%s → %s', async (token, kind) => {
      // getBalance: an action on which every token is a refusal (getNumberV2 would fall back on BAD_ACTION).
      await fault(style, { action: 'getBalance', times: 1, reply: { token } });
      await expectKind(adapter.getBalance(), kind, token.split(':')[0]);
    });

    it('turns an injected NO_NUMBERS on buy into NO_NUMBERS, so the workflow moves to the next provider', async () => {
      await fault(style, { action: 'getNumberV2', times: 1, reply: { token: 'NO_NUMBERS' } });
      await expectKind(buy(), 'NO_NUMBERS');
    });
  });
});

describe('transport failures are TRANSIENT', () => {
  const adapter = () => adapterFor('classic', { timeoutMs: 100 });

  it.each([
    ['HTTP 500', { status: 500 }, 'HTTP 500'],
    ['HTTP 503 with an HTML page', { status: 503, body: '<html>Service Unavailable</html>' }, 'HTTP 503'],
    ['HTTP 429', { status: 429, body: 'Too Many Requests' }, 'HTTP 429'],
    ['a garbage 200', { status: 200, body: '<html>maintenance</html>' }, 'UNPARSEABLE'],
    ['an empty 200', { status: 200, body: '' }, 'UNPARSEABLE'],
    ['an unexpected 404 page', { status: 404, body: 'Not Found' }, 'UNPARSEABLE'],
  ])('%s', async (_name, reply, token) => {
    await fault('classic', { action: 'getBalance', times: 1, reply });
    const error = await expectKind(adapter().getBalance(), 'TRANSIENT', token);
    expect(error.retryable).toBe(true);
  });

  it('a JSON reply of the wrong shape', async () => {
    await fault('classic', { action: 'getNumberV2', times: 1, reply: { status: 200, body: '{"unexpected":true}' } });
    await expectKind(adapter().buy({ service: 'tg', country: '6' }), 'TRANSIENT', 'UNEXPECTED_REPLY');
  });

  it('a hero ERROR_SQL (HTTP 500 JSON) keeps its token', async () => {
    await fault('hero', { action: 'getStatus', times: 1, reply: { token: 'ERROR_SQL' } });
    await expectKind(adapterFor('hero').getStatus('1'), 'TRANSIENT', 'ERROR_SQL');
  });

  it('a reply slower than the timeout', async () => {
    await fault('classic', { action: 'getBalance', times: 1, reply: { latencyMs: 400 } });
    const started = Date.now();
    const error = await expectKind(adapterFor('classic', { timeoutMs: 60 }).getBalance(), 'TRANSIENT', 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(350);
    expect(error.message).not.toContain(KEYS.classic);
  });

  it('a dropped connection', async () => {
    await fault('classic', { action: 'getBalance', times: 1, reply: { hangUp: true } });
    await expectKind(adapter().getBalance(), 'TRANSIENT', 'NETWORK');
  });

  it('a refused connection, without leaking the key', async () => {
    const gone = createSimulator({ tenants: [{ id: 'x', apiKey: 'secret-key' }], logger: pino({ level: 'silent' }) });
    const { url } = await gone.listen(0);
    await gone.close();
    const error = await expectKind(
      new SmsActivateAdapter({ id: 'gone', baseUrl: `${url}/x/stubs/handler_api.php`, apiKey: 'secret-key', timeoutMs: 1000 }).getBalance(),
      'TRANSIENT',
      'NETWORK',
    );
    expect(error.message).not.toContain('secret-key');
  });
});

describe('handler_api wire of the extension actions', () => {
  const raw = async (tenant: Style, params: Record<string, string>) => {
    const response = await fetch(`${sim.url}/${tenant}/stubs/handler_api.php?${new URLSearchParams({ api_key: KEYS[tenant], ...params })}`);
    return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
  };

  it('getTopCountriesByService: an object keyed 0..n; freePriceMap with freePrice=true; HeroSMS physical counts', async () => {
    // More than any seeded offer (at most 5000), so it ranks first.
    await control('PUT', '/classic/offers/tg/16', { stock: 9999, price: '0.30' });
    const reply = await raw('classic', { action: 'getTopCountriesByService', service: 'tg', freePrice: 'true' });
    expect([reply.status, reply.contentType]).toEqual([200, 'application/json']);
    const body = JSON.parse(reply.body);
    expect(Object.keys(body).slice(0, 3)).toEqual(['0', '1', '2']);
    expect(body['0']).toEqual({ country: 16, count: 9999, price: 0.3, retail_price: 0.6, freePriceMap: { '0.30': 9000, '0.40': 999 } });
    const plain = JSON.parse((await raw('classic', { action: 'getTopCountriesByService', service: 'tg' })).body);
    expect(plain['0']).toEqual({ country: 16, count: 9999, price: 0.3, retail_price: 0.6 });
    const hero = JSON.parse((await raw('hero', { action: 'getTopCountriesByServiceRank', service: 'tg' })).body);
    expect(Object.values(hero)[0]).toMatchObject({ physicalTotalCount: expect.any(Number), physicalCountForDefaultPrice: expect.any(Number), physicalPriceMap: expect.any(Object) });
    // Without a service: keyed by service first, as HeroSMS answers live.
    const everything = JSON.parse((await raw('classic', { action: 'getTopCountriesByService' })).body);
    expect(everything.tg['0']).toMatchObject({ country: 16, count: 9999 });
    expect((await raw('classic', { action: 'getTopCountriesByService', service: 'nope' })).body).toBe('BAD_SERVICE');
  });

  it('getOperators and getFullSms', async () => {
    const operators = JSON.parse((await raw('classic', { action: 'getOperators', country: '6' })).body);
    expect(operators).toEqual({ status: 'success', countryOperators: { '6': ['telkomsel', 'indosat', 'axis', 'three'] } });
    expect((await raw('classic', { action: 'getOperators', country: '9999' })).body).toBe('BAD_COUNTRY');
    const { upstreamId } = await adapterFor('classic').buy({ service: 'tg', country: '6' });
    expect((await raw('classic', { action: 'getFullSms', id: upstreamId })).body).toBe('STATUS_WAIT_CODE');
    await control('POST', `/classic/activations/${upstreamId}/sms`, { code: '51234', text: 'Telegram code 51234' });
    expect((await raw('classic', { action: 'getFullSms', id: upstreamId })).body).toBe('FULL_SMS:Telegram code 51234');
  });
});

describe('clone behaviour', () => {
  it('resolves a repeated cancel answered with ACCESS_CANCEL_ALREADY', async () => {
    const adapter = adapterFor('clone');
    const { upstreamId } = await adapter.buy({ service: 'tg', country: '6' });
    await advance(120_000);
    await adapter.cancel(upstreamId);
    await expect(adapter.cancel(upstreamId)).resolves.toBeUndefined();
  });
});

import pino from 'pino';
import { createSimulator, defaultTenants } from '../../src/simulator';
import { formatProviderTime } from '../../src/simulator/clock';
import { HANDLER_API_KEYS as KEYS, HANDLER_API_TENANTS, useSimulator } from '../support/simulator';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * The simulator over real HTTP: every handler_api action, the spec 5.2 state machine with its
 * refusals, expiry through the control clock, stock and balance bookkeeping, both error styles,
 * webhooks and fault injection. The base clock is frozen; only the control offset moves it.
 */
type TenantId = keyof typeof KEYS;

const sim = useSimulator(HANDLER_API_TENANTS);
const { control } = sim;

beforeEach(async () => {
  for (const tenant of Object.keys(KEYS)) await sim.reset(tenant, { offers: { 'tg/6': { stock: 3, price: '0.35' } }, balance: '10.00' });
});

interface RawReply {
  status: number;
  text: string;
  contentType: string | null;
}

async function call(tenant: TenantId, params: Record<string, string>, apiKey: string | null = KEYS[tenant]): Promise<RawReply> {
  const query = new URLSearchParams(apiKey === null ? params : { api_key: apiKey, ...params });
  const response = await fetch(`${sim.url}/${tenant}/stubs/handler_api.php?${query}`);
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

/** A classic-mode call: asserts the HTTP 200 every strict client requires, returns the body. */
async function classic(params: Record<string, string>, tenant: TenantId = 'classic'): Promise<string> {
  const reply = await call(tenant, params);
  expect(reply.status).toBe(200);
  return reply.text;
}

async function buy(tenant: TenantId = 'classic', params: Record<string, string> = {}): Promise<string> {
  const reply = await call(tenant, { action: 'getNumber', service: 'tg', country: '6', ...params });
  const match = /^ACCESS_NUMBER:(\d+):(\d+)$/.exec(reply.text);
  if (!match) throw new Error(`buy failed: ${reply.status} ${reply.text}`);
  return match[1];
}

const setStatus = (id: string, status: string, tenant: TenantId = 'classic') => call(tenant, { action: 'setStatus', id, status });
const status = async (id: string, tenant: TenantId = 'classic') => (await call(tenant, { action: 'getStatus', id })).text;
const sms = (id: string, code: string, tenant: TenantId = 'classic', text?: string) =>
  control('POST', `/${tenant}/activations/${id}/sms`, text === undefined ? { code } : { code, text });
const advance = (ms: number) => control('POST', '/clock', { advanceMs: ms });
const offer = async (tenant: TenantId, service = 'tg', country = '6') =>
  (await control('GET', `/${tenant}/offers?service=${service}&country=${country}`)).json.offers[0];

describe('transport', () => {
  it('does not listen until asked, and closes cleanly', async () => {
    const idle = createSimulator({ tenants: defaultTenants(), logger: pino({ level: 'silent' }) });
    await expect(idle.close()).resolves.toBeUndefined();
    const started = createSimulator({ tenants: defaultTenants(), logger: pino({ level: 'silent' }) });
    const { url, port } = await started.listen(0);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await fetch(`${url}/hero/stubs/handler_api.php?api_key=sim-hero-key&action=getBalance`)).text()).toBe('ACCESS_BALANCE:1000.00');
    await started.close();
  });

  it('reads parameters from the query string, from a form body, and from the query of an empty POST', async () => {
    const url = `${sim.url}/classic/stubs/handler_api.php`;
    const get = await fetch(`${url}?api_key=${KEYS.classic}&action=getBalance`);
    const form = await fetch(url, { method: 'POST', body: new URLSearchParams({ api_key: KEYS.classic, action: 'getBalance' }) });
    const emptyPost = await fetch(`${url}?api_key=${KEYS.classic}&action=getBalance`, { method: 'POST' });
    for (const response of [get, form, emptyPost]) {
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('ACCESS_BALANCE:10.00');
    }
  });

  it('classic mode: HTTP 200 and a bare token, no trailing whitespace, for errors too', async () => {
    expect(await call('classic', { action: 'getBalance' }, null)).toEqual({ status: 200, text: 'NO_KEY', contentType: 'text/plain; charset=utf-8' });
    expect(await call('classic', { action: 'getBalance' }, 'wrong')).toMatchObject({ status: 200, text: 'BAD_KEY' });
    expect(await call('classic', { action: 'fly' })).toMatchObject({ status: 200, text: 'BAD_ACTION' });
    expect(await call('classic', {})).toMatchObject({ status: 200, text: 'BAD_ACTION' });
  });

  it('hero mode: status-coded JSON errors', async () => {
    const noKey = await call('hero', { action: 'getBalance' }, null);
    expect(noKey.status).toBe(401);
    expect(noKey.contentType).toBe('application/json');
    expect(JSON.parse(noKey.text)).toEqual({ status: 'error', message: 'NO_KEY', errorMsg: expect.any(String) });
    const badKey = await call('hero', { action: 'getBalance' }, 'wrong');
    expect([badKey.status, JSON.parse(badKey.text).message]).toEqual([401, 'BAD_KEY']);
    const badAction = await call('hero', { action: 'fly' });
    expect([badAction.status, JSON.parse(badAction.text).message]).toEqual([400, 'BAD_ACTION']);
    // Successes are the same tokens as classic.
    expect(await call('hero', { action: 'getBalance' })).toMatchObject({ status: 200, text: 'ACCESS_BALANCE:10.00' });
  });

  it('answers 404 for an unknown tenant', async () => {
    const response = await fetch(`${sim.url}/nobody/stubs/handler_api.php?api_key=x&action=getBalance`);
    expect(response.status).toBe(404);
  });
});

describe('buying', () => {
  it('getNumber sells a number, takes one from stock and debits the balance', async () => {
    const reply = await classic({ action: 'getNumber', service: 'tg', country: '6' });
    expect(reply).toMatch(/^ACCESS_NUMBER:\d+:62\d{10}$/);
    expect(Number(reply.split(':')[1])).toBeGreaterThan(2 ** 31);
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:9.65');
    expect((await offer('classic')).stock).toBe(2);
  });

  it('getNumberV2 answers the spec 5.4 JSON', async () => {
    const reply = await call('classic', { action: 'getNumberV2', service: 'tg', country: '6' });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    const body = JSON.parse(reply.text);
    expect(body).toEqual({
      activationId: expect.any(Number),
      phoneNumber: expect.stringMatching(/^62\d{10}$/),
      activationCost: 0.35,
      currency: 840,
      countryCode: '6',
      canGetAnotherSms: '1',
      activationTime: formatProviderTime(sim.clock.now()),
      activationOperator: expect.any(String),
    });
    expect(body.activationTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('falls back to the default country when none is given', async () => {
    await control('PUT', '/classic/offers/tg/0', { stock: 5, price: '0.10' });
    expect(await classic({ action: 'getNumber', service: 'tg' })).toMatch(/^ACCESS_NUMBER:\d+:7\d{10}$/);
    expect((await offer('classic', 'tg', '0')).stock).toBe(4);
  });

  it('refuses with the documented tokens and leaves stock and balance alone', async () => {
    await control('PUT', '/classic/offers/wa/6', { stock: 0, price: '0.20' });
    await control('PUT', '/classic/offers/go/6', { stock: 5, price: '20.00' });
    expect(await classic({ action: 'getNumber', service: 'nope', country: '6' })).toBe('BAD_SERVICE');
    expect(await classic({ action: 'getNumber', country: '6' })).toBe('BAD_SERVICE');
    expect(await classic({ action: 'getNumber', service: 'tg', country: '9999' })).toBe('BAD_COUNTRY');
    expect(await classic({ action: 'getNumber', service: 'wa', country: '6' })).toBe('NO_NUMBERS');
    expect(await classic({ action: 'getNumber', service: 'go', country: '6' })).toBe('NO_BALANCE');
    expect(await classic({ action: 'getNumber', service: 'tg', country: '6', maxPrice: '0.34' })).toBe('WRONG_MAX_PRICE:0.35');
    expect(await classic({ action: 'getNumber', service: 'tg', country: '6', maxPrice: 'cheap' })).toBe('WRONG_MAX_PRICE:0.35');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:10.00');
    expect((await offer('classic')).stock).toBe(3);
    expect(await classic({ action: 'getNumber', service: 'tg', country: '6', maxPrice: '0.35' })).toMatch(/^ACCESS_NUMBER:/);
  });

  it('runs out of stock after the last number', async () => {
    for (let i = 0; i < 3; i++) await buy();
    expect(await classic({ action: 'getNumber', service: 'tg', country: '6' })).toBe('NO_NUMBERS');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:8.95');
  });

  it('hero mode refuses with status-coded JSON', async () => {
    await control('PUT', '/hero/offers/wa/6', { stock: 0, price: '0.20' });
    const noNumbers = await call('hero', { action: 'getNumber', service: 'wa', country: '6' });
    expect([noNumbers.status, JSON.parse(noNumbers.text).message]).toEqual([404, 'NO_NUMBERS']);
    const maxPrice = await call('hero', { action: 'getNumberV2', service: 'tg', country: '6', maxPrice: '0.1' });
    expect(maxPrice.status).toBe(400);
    expect(JSON.parse(maxPrice.text)).toMatchObject({ status: 'error', message: 'WRONG_MAX_PRICE', info: { minPrice: 0.35 } });
    await control('PUT', '/hero/balance', { balance: '0.01' });
    const noBalance = await call('hero', { action: 'getNumber', service: 'tg', country: '6' });
    expect([noBalance.status, JSON.parse(noBalance.text).message]).toEqual([402, 'NO_BALANCE']);
    // HeroSMS numbers Russia 222 and has no country 0.
    const russia = await call('hero', { action: 'getNumber', service: 'tg', country: '0' });
    expect(JSON.parse(russia.text).message).toBe('BAD_COUNTRY');
  });
});

describe('the spec 5.2 state machine', () => {
  it('WAIT → READY with status 1, only once', async () => {
    const id = await buy();
    expect(await status(id)).toBe('STATUS_WAIT_CODE');
    expect((await setStatus(id, '1')).text).toBe('ACCESS_READY');
    expect(await status(id)).toBe('STATUS_WAIT_CODE');
    expect((await setStatus(id, '1')).text).toBe('BAD_STATUS');
    expect((await sms(id, '11111')).json.state).toBe('GOT_CODE');
  });

  it('refuses 3 and 6 before a code, and unknown statuses', async () => {
    const id = await buy();
    for (const code of ['3', '6', '2', '-1', '', 'x']) expect((await setStatus(id, code)).text).toBe('BAD_STATUS');
    expect(await status(id)).toBe('STATUS_WAIT_CODE');
  });

  it('refuses an early cancel, then cancels with a refund once minCancel has passed', async () => {
    const id = await buy();
    expect((await setStatus(id, '8')).text).toBe('EARLY_CANCEL_DENIED');
    await advance(119_000);
    expect((await setStatus(id, '8')).text).toBe('EARLY_CANCEL_DENIED');
    expect(await status(id)).toBe('STATUS_WAIT_CODE');
    await advance(1_000);
    expect((await setStatus(id, '8')).text).toBe('ACCESS_CANCEL');
    expect(await status(id)).toBe('STATUS_CANCEL');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:10.00');
    expect((await offer('classic')).stock).toBe(3);
  });

  it('cancels from READY too', async () => {
    const id = await buy();
    await setStatus(id, '1');
    await advance(120_000);
    expect((await setStatus(id, '8')).text).toBe('ACCESS_CANCEL');
  });

  it('refuses every setStatus on a cancelled activation (ACCESS_CANCEL_ALREADY in clone mode)', async () => {
    const id = await buy();
    const cloneId = await buy('clone');
    await advance(120_000);
    await setStatus(id, '8');
    await setStatus(cloneId, '8', 'clone');
    for (const code of ['1', '3', '6', '8']) expect((await setStatus(id, code)).text).toBe('BAD_STATUS');
    expect((await setStatus(cloneId, '8', 'clone')).text).toBe('ACCESS_CANCEL_ALREADY');
    expect((await setStatus(cloneId, '6', 'clone')).text).toBe('BAD_STATUS');
    // A repeated cancel never refunds twice.
    expect(await classic({ action: 'getBalance' }, 'clone')).toBe('ACCESS_BALANCE:10.00');
    expect((await sms(id, '12345')).status).toBe(409);
  });

  it('walks code → retry → second code → done, and refuses a cancel after a code', async () => {
    const id = await buy();
    expect((await sms(id, '51234')).json).toMatchObject({ state: 'GOT_CODE', codes: ['51234'] });
    expect(await status(id)).toBe('STATUS_OK:51234');
    await advance(120_000);
    expect((await setStatus(id, '8')).text).toBe('BAD_STATUS');
    expect((await setStatus(id, '1')).text).toBe('BAD_STATUS');
    expect((await setStatus(id, '3')).text).toBe('ACCESS_RETRY_GET');
    expect(await status(id)).toBe('STATUS_WAIT_RETRY:51234');
    expect((await setStatus(id, '3')).text).toBe('BAD_STATUS');
    expect((await setStatus(id, '8')).text).toBe('BAD_STATUS');
    expect((await sms(id, '777888')).json.state).toBe('GOT_CODE');
    expect(await status(id)).toBe('STATUS_OK:777888');
    expect((await sms(id, '000000')).status).toBe(409);
    expect((await setStatus(id, '6')).text).toBe('ACCESS_ACTIVATION');
    expect(await status(id)).toBe('STATUS_OK:777888');
    for (const code of ['1', '3', '6', '8']) expect((await setStatus(id, code)).text).toBe('BAD_STATUS');
    // The number was used: no refund, no stock back.
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:9.65');
    expect((await offer('classic')).stock).toBe(2);
  });

  it('finishes straight from WAIT_RETRY', async () => {
    const id = await buy();
    await sms(id, '11111');
    await setStatus(id, '3');
    expect((await setStatus(id, '6')).text).toBe('ACCESS_ACTIVATION');
    expect(await status(id)).toBe('STATUS_OK:11111');
  });

  it('hero mode: early cancel is a 409 problem body with minActivationTime; BAD_STATUS is JSON', async () => {
    const id = await buy('hero');
    const early = await setStatus(id, '8', 'hero');
    expect(early.status).toBe(409);
    expect(JSON.parse(early.text)).toEqual({ title: 'EARLY_CANCEL_DENIED', details: expect.any(String), info: { minActivationTime: 120 } });
    const bad = await setStatus(id, '6', 'hero');
    expect(bad.status).toBe(409);
    expect(JSON.parse(bad.text)).toMatchObject({ status: 'error', message: 'BAD_STATUS' });
    await control('PATCH', '/hero/settings', { minCancelMs: 30_000 });
    await advance(30_000);
    expect((await setStatus(id, '8', 'hero')).text).toBe('ACCESS_CANCEL');
  });

  it('getStatusV2 answers JSON while running and STATUS_CANCEL once cancelled', async () => {
    const id = await buy();
    expect(JSON.parse((await call('classic', { action: 'getStatusV2', id })).text)).toEqual({ verificationType: 0, sms: null, call: null });
    await sms(id, '424242', 'classic', 'Telegram code 424242');
    expect(JSON.parse((await call('classic', { action: 'getStatusV2', id })).text)).toEqual({
      verificationType: 0,
      sms: { dateTime: formatProviderTime(sim.clock.now()), code: '424242', text: 'Telegram code 424242' },
      call: null,
    });
    const other = await buy();
    await advance(120_000);
    await setStatus(other, '8');
    expect((await call('classic', { action: 'getStatusV2', id: other })).text).toBe('STATUS_CANCEL');
  });

  it('answers NO_ACTIVATION for unknown ids, malformed ids and other tenants’ activations', async () => {
    const heroId = await buy('hero');
    for (const id of ['1', 'abc', heroId]) {
      expect(await status(id)).toBe('NO_ACTIVATION');
      expect((await setStatus(id, '8')).text).toBe('NO_ACTIVATION');
    }
    expect(await classic({ action: 'getStatus' })).toBe('NO_ACTIVATION');
    const hero = await call('hero', { action: 'getStatus', id: '1' });
    expect([hero.status, JSON.parse(hero.text).message]).toEqual([404, 'NO_ACTIVATION']);
    expect((await sms('1', '12345')).status).toBe(404);
  });
});

describe('expiry', () => {
  it('WAIT/READY → CANCELLED with a refund when the lifetime ends', async () => {
    const waiting = await buy();
    const ready = await buy();
    await setStatus(ready, '1');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:9.30');
    await advance(20 * 60_000);
    expect(await status(waiting)).toBe('STATUS_CANCEL');
    expect(await status(ready)).toBe('STATUS_CANCEL');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:10.00');
    expect((await offer('classic')).stock).toBe(3);
    expect((await setStatus(waiting, '8')).text).toBe('BAD_STATUS');
    expect((await sms(waiting, '12345')).status).toBe(409);
  });

  it('GOT_CODE/WAIT_RETRY → DONE without a refund', async () => {
    const got = await buy();
    const retry = await buy();
    await sms(got, '11111');
    await sms(retry, '22222');
    await setStatus(retry, '3');
    await advance(20 * 60_000);
    expect(await status(got)).toBe('STATUS_OK:11111');
    expect(await status(retry)).toBe('STATUS_OK:22222');
    expect((await setStatus(got, '6')).text).toBe('BAD_STATUS');
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:9.30');
    const listed = (await control('GET', '/classic/activations')).json.activations;
    expect(listed.map((a: { state: string }) => a.state)).toEqual(['DONE', 'DONE']);
  });

  it('is not expired a moment before the lifetime ends; lifetime is settable at runtime', async () => {
    await control('PATCH', '/classic/settings', { lifetimeMs: 60_000 });
    const id = await buy();
    await advance(59_999);
    expect(await status(id)).toBe('STATUS_WAIT_CODE');
    await advance(1);
    expect(await status(id)).toBe('STATUS_CANCEL');
  });

  it('expires in the background when the control clock moves, before anyone asks', async () => {
    await buy();
    const tenant = sim.tenants.get('classic')!;
    expect(tenant.balanceMicros).toBe(9_650_000n);
    await advance(20 * 60_000);
    // A field read, not a call that settles: the clock move itself swept.
    expect(tenant.balanceMicros).toBe(10_000_000n);
  });
});

describe('catalog and listing actions', () => {
  it('getPrices: nested by country then service, with filters', async () => {
    await control('PUT', '/classic/offers/wa/6', { stock: 7, price: '0.014' });
    const all = JSON.parse(await classic({ action: 'getPrices' }));
    expect(all['6'].tg).toEqual({ cost: 0.35, count: 3 });
    expect(all['6'].wa).toEqual({ cost: 0.014, count: 7 });
    expect(Object.keys(all).length).toBeGreaterThan(10);
    const tg = JSON.parse(await classic({ action: 'getPrices', service: 'tg' }));
    expect(Object.values(tg).every((services) => Object.keys(services as object).join() === 'tg')).toBe(true);
    expect(JSON.parse(await classic({ action: 'getPrices', service: 'tg', country: '6' }))).toEqual({ '6': { tg: { cost: 0.35, count: 3 } } });
    expect(await classic({ action: 'getPrices', service: 'nope' })).toBe('BAD_SERVICE');
    expect(await classic({ action: 'getPrices', country: '9999' })).toBe('BAD_COUNTRY');
    const hero = JSON.parse((await call('hero', { action: 'getPrices', service: 'tg', country: '6' })).text);
    expect(hero).toEqual({ '6': { tg: { cost: 0.35, count: 3, physicalCount: 3 } } });
  });

  it('getActiveActivations: NO_ACTIVATIONS, then the spec 2.6 list of running activations', async () => {
    expect(await classic({ action: 'getActiveActivations' })).toBe('NO_ACTIVATIONS');
    const heroEmpty = await call('hero', { action: 'getActiveActivations' });
    expect([heroEmpty.status, JSON.parse(heroEmpty.text).message]).toEqual([404, 'NO_ACTIVATIONS']);

    const first = await buy();
    const second = await buy();
    const finished = await buy();
    await sms(second, '51234', 'classic', 'Telegram code 51234');
    await sms(finished, '99999');
    await setStatus(finished, '6');
    const body = JSON.parse(await classic({ action: 'getActiveActivations' }));
    expect(body.status).toBe('success');
    expect(body.activeActivations.map((a: { activationId: string }) => a.activationId)).toEqual([first, second]);
    expect(body.activeActivations[0]).toMatchObject({ serviceCode: 'tg', countryCode: '6', countryName: 'Indonesia', smsCode: null, smsText: null, activationCost: 0.35, currency: 840 });
    expect(body.activeActivations[0].phoneNumber).toMatch(/^62\d{10}$/);
    expect(body.activeActivations[1]).toMatchObject({ smsCode: ['51234'], smsText: '[Telegram code 51234]' });
  });

  it('getCountries and getServicesList, in each tenant’s own country numbering', async () => {
    const classicCountries = JSON.parse(await classic({ action: 'getCountries' }));
    expect(classicCountries['0']).toMatchObject({ id: 0, eng: 'Russia', rus: 'Россия', visible: 1 });
    expect(classicCountries['12']).toMatchObject({ eng: 'USA (virtual)' });
    expect(classicCountries['6']).toMatchObject({ id: 6, eng: 'Indonesia' });
    const heroCountries = JSON.parse((await call('hero', { action: 'getCountries' })).text);
    expect(heroCountries['0']).toBeUndefined();
    expect(heroCountries['12']).toBeUndefined();
    expect(heroCountries['222']).toMatchObject({ id: 222, eng: 'Russia', visible: 0 });

    const services = JSON.parse(await classic({ action: 'getServicesList' }));
    expect(services.status).toBe('success');
    expect(services.services).toEqual(expect.arrayContaining([{ code: 'tg', name: 'Telegram' }, { code: 'wa', name: 'WhatsApp' }]));
    expect(services.services.length).toBeGreaterThanOrEqual(25);
    const inIndonesia = JSON.parse(await classic({ action: 'getServicesList', country: '6' })).services.map((s: { code: string }) => s.code);
    expect(inIndonesia).toEqual(expect.arrayContaining(['tg', 'wa']));
  });

  it('getNumbersStatus counts stock per service for a country', async () => {
    expect(JSON.parse(await classic({ action: 'getNumbersStatus', country: '6' }))).toMatchObject({ tg_0: 3 });
  });

  it('seeds each tenant deterministically, differently per tenant, always selling tg×6, tg×16 and wa×6', () => {
    const [a, b] = [createSimulator({ tenants: defaultTenants() }), createSimulator({ tenants: defaultTenants() })];
    for (const id of ['hero', 'activate']) {
      expect(a.tenants.get(id)!.catalog.listOffers()).toEqual(b.tenants.get(id)!.catalog.listOffers());
    }
    const hero = a.tenants.get('hero')!.catalog;
    const activate = a.tenants.get('activate')!.catalog;
    for (const [service, country] of [['tg', '6'], ['tg', '16'], ['wa', '6']]) {
      const heroOffer = hero.offer(service, country)!;
      const activateOffer = activate.offer(service, country)!;
      expect(heroOffer.stock).toBeGreaterThan(0);
      expect(activateOffer.stock).toBeGreaterThan(0);
      expect(heroOffer.priceMicros).not.toBe(activateOffer.priceMicros);
    }
    expect(activate.services.size).toBeGreaterThanOrEqual(25);
    expect(activate.countries.size).toBeGreaterThanOrEqual(30);
    expect(activate.listOffers().length).toBeGreaterThan(300);
  });
});

describe('webhooks and autoSms', () => {
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(() => receiver.close());

  it('posts the SMS-Activate activation webhook when an SMS is delivered', async () => {
    await control('PATCH', '/classic/settings', { webhookUrl: receiver.url });
    const id = await buy();
    await sms(id, '51234', 'classic', 'Telegram code 51234');
    expect(await receiver.next()).toEqual({
      activationId: Number(id),
      service: 'tg',
      text: 'Telegram code 51234',
      code: '51234',
      country: 6,
      receivedAt: formatProviderTime(sim.clock.now()),
    });
  });

  it('survives a webhook receiver that is down', async () => {
    const down = await startWebhookReceiver();
    await down.close();
    await control('PATCH', '/classic/settings', { webhookUrl: down.url });
    const id = await buy();
    expect((await sms(id, '51234')).status).toBe(200);
    expect(await status(id)).toBe('STATUS_OK:51234');
  });

  it('autoSms delivers a 5–6 digit code on its own, and again after a retry request', async () => {
    await control('PATCH', '/classic/settings', { webhookUrl: receiver.url, autoSms: { probability: 1, minDelayMs: 5, maxDelayMs: 20 } });
    const id = await buy();
    const first = (await receiver.next()) as { activationId: number; code: string };
    expect(first.activationId).toBe(Number(id));
    expect(first.code).toMatch(/^\d{5,6}$/);
    expect(await status(id)).toBe(`STATUS_OK:${first.code}`);
    await setStatus(id, '3');
    const second = (await receiver.next()) as { code: string };
    expect(await status(id)).toBe(`STATUS_OK:${second.code}`);
  });

  it('autoSms never fires for an activation that expired or was cancelled first', async () => {
    await control('PATCH', '/classic/settings', { webhookUrl: receiver.url, autoSms: { probability: 1, minDelayMs: 40, maxDelayMs: 40 }, minCancelMs: 0 });
    const expired = await buy();
    const cancelled = await buy();
    await setStatus(cancelled, '8');
    await advance(20 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(receiver.received).toEqual([]);
    expect(await status(expired)).toBe('STATUS_CANCEL');
  });
});

describe('fault injection', () => {
  it('answers the next n matching calls with an HTTP status, then recovers', async () => {
    await control('POST', '/classic/faults', { action: 'getBalance', times: 2, reply: { status: 500 } });
    expect((await call('classic', { action: 'getStatus', id: '1' })).text).toBe('NO_ACTIVATION');
    expect((await call('classic', { action: 'getBalance' })).status).toBe(500);
    expect((await call('classic', { action: 'getBalance' })).status).toBe(500);
    expect(await call('classic', { action: 'getBalance' })).toMatchObject({ status: 200, text: 'ACCESS_BALANCE:10.00' });
  });

  it('answers a token in the tenant’s error style', async () => {
    await control('POST', '/classic/faults', { times: 1, reply: { token: 'ERROR_SQL' } });
    await control('POST', '/hero/faults', { times: 1, reply: { token: 'ERROR_SQL' } });
    await control('POST', '/hero/faults', { times: 1, reply: { token: 'BANNED:2026-1-5 10-0-0' } });
    expect(await call('classic', { action: 'getBalance' })).toMatchObject({ status: 200, text: 'ERROR_SQL' });
    const sql = await call('hero', { action: 'getBalance' });
    expect([sql.status, JSON.parse(sql.text).message]).toEqual([500, 'ERROR_SQL']);
    const banned = await call('hero', { action: 'getBalance' });
    expect([banned.status, JSON.parse(banned.text).message]).toEqual([403, 'BANNED']);
  });

  it('serves a custom body, delays, and hangs up', async () => {
    await control('POST', '/classic/faults', { times: 1, reply: { status: 200, body: '<html>oops</html>' } });
    expect((await call('classic', { action: 'getBalance' })).text).toBe('<html>oops</html>');

    await control('POST', '/classic/faults', { times: 1, reply: { latencyMs: 60 } });
    const started = Date.now();
    expect((await call('classic', { action: 'getBalance' })).text).toBe('ACCESS_BALANCE:10.00');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);

    await control('POST', '/classic/faults', { times: 1, reply: { hangUp: true } });
    await expect(call('classic', { action: 'getBalance' })).rejects.toThrow();
    expect((await call('classic', { action: 'getBalance' })).text).toBe('ACCESS_BALANCE:10.00');
  });

  it('serves a call but loses its reply: the number is sold, the caller hears nothing', async () => {
    await control('POST', '/classic/faults', { action: 'getNumber', times: 1, reply: { serveThenHangUpAfterMs: 30 } });
    await expect(call('classic', { action: 'getNumber', service: 'tg', country: '6' })).rejects.toThrow();
    const sold = (await control('GET', '/classic/activations')).json.activations;
    expect(sold).toEqual([expect.objectContaining({ service: 'tg', country: '6', state: 'WAIT', cost: '0.35' })]);
    expect(await classic({ action: 'getBalance' })).toBe('ACCESS_BALANCE:9.65');
    // A refusal is answered at once: nothing happened that the caller could miss.
    await control('PUT', '/classic/offers/tg/6', { stock: 0 });
    await control('POST', '/classic/faults', { action: 'getNumber', times: 1, reply: { serveThenHangUpAfterMs: 30 } });
    expect(await classic({ action: 'getNumber', service: 'tg', country: '6' })).toBe('NO_NUMBERS');
  });

  it('adds a per-tenant latency to every call', async () => {
    await control('PATCH', '/classic/settings', { latencyMs: 50 });
    const started = Date.now();
    await call('classic', { action: 'getBalance' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('lists and clears faults', async () => {
    await control('POST', '/classic/faults', { action: 'getNumber', times: 3, reply: { token: 'NO_NUMBERS' } });
    expect((await control('GET', '/classic/faults')).json.faults).toEqual([{ action: 'getNumber', times: 3, reply: { token: 'NO_NUMBERS' } }]);
    await control('DELETE', '/classic/faults');
    expect(await buy()).toMatch(/^\d+$/);
  });
});

describe('control API', () => {
  it('lists tenants and resets one to its seed', async () => {
    const { json } = await control('GET', '/tenants');
    expect(json.tenants.map((t: { id: string }) => t.id)).toEqual(['classic', 'hero', 'clone']);
    expect(json.tenants[1]).toMatchObject({ errorStyle: 'hero', balance: '10.00', settings: { minCancelMs: 120_000, lifetimeMs: 1_200_000 } });
    await buy();
    const reset = await control('POST', '/classic/reset');
    expect(reset.json).toMatchObject({ balance: '1000.00', activeActivations: 0 });
    expect((await control('GET', '/classic/activations')).json.activations).toEqual([]);
  });

  it('creates and changes offers', async () => {
    expect((await control('PUT', '/classic/offers/acz/9', { stock: 1 })).status).toBe(400);
    expect((await control('PUT', '/classic/offers/acz/9', { stock: 1, price: 2.5 })).json).toEqual({ service: 'acz', country: '9', stock: 1, price: '2.50' });
    expect(await classic({ action: 'getNumber', service: 'acz', country: '9' })).toMatch(/^ACCESS_NUMBER:\d+:255\d{10}$/);
    expect((await control('PUT', '/classic/offers/acz/9', { price: '1.00' })).json).toEqual({ service: 'acz', country: '9', stock: 0, price: '1.00' });
  });

  it('lists a tenant’s activations with their state', async () => {
    const id = await buy();
    await sms(id, '51234');
    const { json } = await control('GET', `/classic/activations/${id}`);
    expect(json).toMatchObject({ id: Number(id), service: 'tg', country: '6', state: 'GOT_CODE', codes: ['51234'], cost: '0.35' });
    expect((await control('GET', '/classic/activations')).json.activations).toHaveLength(1);
  });

  it('finds an activation by its phone number, with or without the +', async () => {
    await buy();
    const second = await control('GET', `/classic/activations/${await buy()}`);
    for (const phone of [second.json.phone, `+${second.json.phone}`]) {
      const { json } = await control('GET', `/classic/activations?phone=${encodeURIComponent(phone)}`);
      expect(json.activations.map((a: { id: number }) => a.id)).toEqual([second.json.id]);
    }
    expect((await control('GET', '/classic/activations?phone=1')).json.activations).toEqual([]);
  });

  it('moves the clock forward only', async () => {
    const before = (await control('GET', '/clock')).json.offsetMs;
    expect((await advance(1_000)).json.offsetMs).toBe(before + 1_000);
    expect((await control('POST', '/clock', { advanceMs: -5 })).status).toBe(400);
  });

  it('validates bodies with 400 JSON errors and 404s unknown tenants', async () => {
    const bad = await control('POST', '/classic/faults', { times: 0, reply: { explode: true } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    expect(bad.json.error.details.issues.length).toBeGreaterThan(0);
    expect((await control('PATCH', '/classic/settings', { autoSms: { probability: 2, minDelayMs: 5, maxDelayMs: 1 } })).status).toBe(400);
    expect((await control('PATCH', '/classic/settings', { webhookUrl: 'not a url' })).status).toBe(400);
    expect((await control('PUT', '/classic/balance', { balance: '-1' })).status).toBe(400);
    expect((await control('POST', '/classic/activations/1/sms', {})).status).toBe(400);
    const invalidJson = await fetch(`${sim.url}/control/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(invalidJson.status).toBe(400);
    expect(((await invalidJson.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    expect((await control('GET', '/nobody')).status).toBe(404);
    expect((await control('GET', '/nobody')).json.error.code).toBe('UNKNOWN_TENANT');
  });
});

import { randomUUID } from 'node:crypto';
import { referenceCountries } from '../../src/catalog/reference-data';
import { SmsActivateAdapter } from '../../src/providers/sms-activate.adapter';
import { ProviderError } from '../../src/providers/types';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { createKey, type PartnerKey } from './security/helpers';

/** Simulator tenant of a provider id (the inverse of TENANT_PROVIDER). */
const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

/** Every number needs 3 s before it may be cancelled: the "cancel after the window" case. */
const MIN_CANCEL_SECONDS = 3;

/**
 * SimGate's own `/stubs/handler_api.php` over real HTTP against the running system (API, worker,
 * Temporal, simulator): every action and every error token of the classic protocol, the HeroSMS
 * style on its own path, and our own SMS-Activate adapter buying through it.
 */
describe('SMS-Activate protocol endpoint (/stubs/handler_api.php)', () => {
  let system: TestSystem;
  let buyer: PartnerKey;
  let reader: PartnerKey;
  let buyerId: string;
  /** A service and country on sale, in SMS-Activate identifiers. */
  let countryId: string;
  let countryIso: string;

  beforeAll(async () => {
    system = await startSystem({
      providers: { 'hero-sim': { minCancelSeconds: MIN_CANCEL_SECONDS }, 'activate-sim': { minCancelSeconds: MIN_CANCEL_SECONDS } },
    });
    const owner = await system.customer(50_000_000n);
    buyerId = owner.id;
    buyer = await createKey(system, owner.token, ['purchase'], 'sms-activate bot');
    reader = await createKey(system, owner.token, ['read'], 'reporting');
    // Indonesia (6 on SMS-Activate and HeroSMS alike) when the simulators sell Telegram there, else the first country they do.
    const offers = await system.container.db.offer.findMany({ where: { serviceCode: 'tg', stock: { gt: 0 }, providerId: { in: Object.values(TENANT_PROVIDER) } }, orderBy: { countryIso: 'asc' } });
    const both = offers.filter((o) => offers.filter((p) => p.countryIso === o.countryIso).length === 2);
    const pick = both.find((o) => o.countryIso === 'ID') ?? both[0];
    countryIso = pick.countryIso;
    countryId = pick.providerId === 'activate-sim' ? pick.upstreamCountry : offers.find((o) => o.countryIso === countryIso && o.providerId === 'activate-sim')!.upstreamCountry;
  });
  afterAll(async () => {
    await system?.stop();
  });

  /** One call as a client sends it: GET with everything in the query string (or POST as a form). */
  async function call(params: Record<string, string>, options: { method?: 'GET' | 'POST'; form?: boolean; path?: string } = {}) {
    const path = options.path ?? '/stubs/handler_api.php';
    const query = new URLSearchParams(params).toString();
    const response =
      options.method === 'POST' && options.form
        ? await fetch(`${system.api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query })
        : await fetch(`${system.api.url}${path}?${query}`, { method: options.method ?? 'GET' });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
  }
  const act = (action: string, params: Record<string, string> = {}, key = buyer.key) => call({ api_key: key, action, ...params });

  async function bought(token: string) {
    const match = /^ACCESS_NUMBER:(\d+):(\d+)$/.exec(token);
    if (!match) throw new Error(`not a number: ${token}`);
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { smsActivateId: BigInt(match[1]) } });
    return { id: match[1], phone: match[2], row };
  }
  async function sendSms(row: { providerId: string | null; upstreamId: string | null }, code: string) {
    await system.sim('POST', `/control/${tenantOf(row.providerId!)}/activations/${row.upstreamId}/sms`, { code, text: `Telegram code ${code}` });
  }
  async function statusBecomes(id: string, expected: string) {
    await waitFor(async () => (await act('getStatus', { id })).body === expected, { timeoutMs: 20_000, intervalMs: 200 });
    return (await act('getStatus', { id })).body;
  }
  const availableMicros = async () => (await system.container.wallet.getWallet(buyerId)).availableMicros;

  it('buys, receives an SMS from the simulator, asks for another, finishes, and charges the price once', async () => {
    const before = await availableMicros();
    const reply = await act('getNumber', { service: 'tg', country: countryId });
    expect(reply).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8' });
    const number = await bought(reply.body);
    expect(number.row).toMatchObject({ userId: buyerId, serviceCode: 'tg', countryIso, status: 'ACTIVE', phone: `+${number.phone}` });
    expect(await act('getStatus', { id: number.id })).toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: 'STATUS_WAIT_CODE' });
    expect((await act('setStatus', { id: number.id, status: '1' })).body).toBe('ACCESS_READY');

    const active = JSON.parse((await act('getActiveActivations')).body);
    expect(active.status).toBe('success');
    expect(active.activeActivations).toContainEqual(expect.objectContaining({ activationId: number.id, serviceCode: 'tg', phoneNumber: number.phone, countryCode: countryId, smsCode: null, currency: 840 }));

    await sendSms(number.row, '51234');
    expect(await statusBecomes(number.id, 'STATUS_OK:51234')).toBe('STATUS_OK:51234');
    const v2 = JSON.parse((await act('getStatusV2', { id: number.id })).body);
    // The text is what reached us (a poll of getStatus carries only the code; a webhook the whole SMS).
    const stored = await system.container.db.smsMessage.findFirstOrThrow({ where: { activationId: number.row.id } });
    expect(v2).toMatchObject({ verificationType: 0, sms: { code: '51234', text: stored.text }, call: null });
    expect(v2.sms.dateTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // Cancelling after a code is refused: the customer has it.
    expect((await act('setStatus', { id: number.id, status: '8' })).body).toBe('BAD_STATUS');

    expect((await act('setStatus', { id: number.id, status: '3' })).body).toBe('ACCESS_RETRY_GET');
    expect((await act('getStatus', { id: number.id })).body).toBe('STATUS_WAIT_RETRY:51234');
    await sendSms(number.row, '67890');
    expect(await statusBecomes(number.id, 'STATUS_OK:67890')).toBe('STATUS_OK:67890');

    expect((await act('setStatus', { id: number.id, status: '6' })).body).toBe('ACCESS_ACTIVATION');
    expect((await act('getStatus', { id: number.id })).body).toBe('STATUS_OK:67890');
    expect((await act('setStatus', { id: number.id, status: '6' })).body).toBe('BAD_STATUS');

    const row = await system.container.db.activation.findUniqueOrThrow({ where: { id: number.row.id } });
    expect(row.status).toBe('COMPLETED');
    expect(await availableMicros()).toBe(before - row.priceMicros!);
    expect(await system.container.wallet.checkInvariants(buyerId)).toEqual([]);
  });

  it('refuses a cancel inside the window and cancels after it, refunding the hold', async () => {
    const before = await availableMicros();
    // POST with a form body, as some clients send it.
    const reply = await call({ api_key: buyer.key, action: 'getNumber', service: 'tg', country: countryId }, { method: 'POST', form: true });
    const number = await bought(reply.body);
    expect((await act('setStatus', { id: number.id, status: '8' })).body).toBe('EARLY_CANCEL_DENIED');
    expect((await act('setStatus', { id: number.id, status: '6' })).body).toBe('BAD_STATUS');
    expect((await act('setStatus', { id: number.id, status: '3' })).body).toBe('BAD_STATUS');
    await new Promise((resolve) => setTimeout(resolve, MIN_CANCEL_SECONDS * 1000 + 200));
    expect((await act('setStatus', { id: number.id, status: '8' })).body).toBe('ACCESS_CANCEL');
    expect((await act('getStatus', { id: number.id })).body).toBe('STATUS_CANCEL');
    expect((await act('getStatusV2', { id: number.id })).body).toBe('STATUS_CANCEL');
    expect((await act('setStatus', { id: number.id, status: '8' })).body).toBe('BAD_STATUS');
    await waitFor(async () => (await availableMicros()) === before, { timeoutMs: 10_000, intervalMs: 200 });
    expect(await availableMicros()).toBe(before);
  });

  it('shows the balance, prices, stock, countries, services, top countries and operators in the protocol\'s shapes', async () => {
    const wallet = await system.container.wallet.getWallet(buyerId);
    const balance = await act('getBalance');
    expect(balance.body).toMatch(/^ACCESS_BALANCE:\d+\.\d{2,6}$/);
    expect(balance.body).toBe(`ACCESS_BALANCE:${(Number(wallet.availableMicros) / 1e6).toFixed(2)}`);

    const offer = await system.container.catalog.offersForService('tg', countryIso);
    const prices = JSON.parse((await act('getPrices', { service: 'tg', country: countryId })).body);
    expect(prices).toEqual({ [countryId]: { tg: { cost: Number(offer[0].priceMicros) / 1e6, count: offer[0].stock } } });
    const allPrices = JSON.parse((await act('getPrices')).body);
    expect(allPrices[countryId].tg).toEqual(prices[countryId].tg);

    const stock = JSON.parse((await act('getNumbersStatus', { country: countryId })).body);
    expect(stock.tg_0).toBe(offer[0].stock);

    const countries = JSON.parse((await act('getCountries')).body);
    expect(countries[countryId]).toMatchObject({ id: Number(countryId), visible: 1, retry: 1, rent: 0, multiService: 0 });
    expect(typeof countries[countryId].eng).toBe('string');

    const services = JSON.parse((await act('getServicesList', { country: countryId })).body);
    expect(services.status).toBe('success');
    expect(services.services).toContainEqual({ code: 'tg', name: 'Telegram' });

    const top = JSON.parse((await act('getTopCountriesByService', { service: 'tg', freePrice: 'true' })).body);
    const entry = Object.values(top).find((row: any) => row.country === Number(countryId)) as any;
    expect(entry).toMatchObject({ count: offer[0].stock, price: Number(offer[0].priceMicros) / 1e6 });
    expect(Object.values(entry.freePriceMap as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(offer[0].stock);
    expect(Object.keys(top)[0]).toBe('0');

    const operators = JSON.parse((await act('getOperators', { country: countryId })).body);
    expect(operators).toEqual({ status: 'success', countryOperators: { [countryId]: ['any'] } });
  });

  it('answers every refusal with its exact token and HTTP 200', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ action: 'getBalance' }, 'NO_KEY'],
      [{ api_key: 'sg_000000000000_nope', action: 'getBalance' }, 'BAD_KEY'],
      [{ api_key: `sg_0123456789ab_${'x'.repeat(43)}`, action: 'getBalance' }, 'BAD_KEY'],
      [{ api_key: buyer.key, action: 'nope' }, 'BAD_ACTION'],
      [{ api_key: buyer.key }, 'BAD_ACTION'],
      [{ api_key: buyer.key, action: 'getNumber', service: 'no-such-service', country: countryId }, 'BAD_SERVICE'],
      [{ api_key: buyer.key, action: 'getNumber', country: countryId }, 'BAD_SERVICE'],
      [{ api_key: buyer.key, action: 'getNumber', service: 'tg', country: '99999' }, 'BAD_COUNTRY'],
      [{ api_key: buyer.key, action: 'getPrices', service: 'zz-nothing' }, 'BAD_SERVICE'],
      [{ api_key: buyer.key, action: 'getNumber', service: 'tg', country: countryId, operator: 'telkomsel' }, 'WRONG_OPERATOR'],
      [{ api_key: buyer.key, action: 'getStatus', id: '999999999999' }, 'NO_ACTIVATION'],
      [{ api_key: buyer.key, action: 'getStatus', id: 'abc' }, 'NO_ACTIVATION'],
      [{ api_key: buyer.key, action: 'setStatus', id: '999999999999', status: '8' }, 'NO_ACTIVATION'],
      [{ api_key: buyer.key, action: 'getStatus', id: '1\u0000' }, 'NO_ACTIVATION'],
      // A read-only key cannot buy.
      [{ api_key: reader.key, action: 'getNumber', service: 'tg', country: countryId }, 'BAD_KEY'],
    ];
    for (const [params, token] of cases) {
      const reply = await call(params);
      expect({ params, reply }).toEqual({ params, reply: { status: 200, type: 'text/plain; charset=utf-8', body: token } });
    }
    // A body that cannot be read is dropped: the answer comes from the query string, still a token.
    for (const [type, body] of [['application/json', '{"action": '], ['application/x-www-form-urlencoded', `a=${'x'.repeat(40_000)}`]]) {
      const response = await fetch(`${system.api.url}/stubs/handler_api.php?api_key=${buyer.key}&action=getStatus&id=999999999`, { method: 'POST', headers: { 'content-type': type }, body });
      expect({ type, status: response.status, body: await response.text() }).toEqual({ type, status: 200, body: 'NO_ACTIVATION' });
    }
    // The reader can read.
    expect((await act('getBalance', {}, reader.key)).body).toMatch(/^ACCESS_BALANCE:/);
  });

  it('refuses another customer\'s activation as unknown, a too-low maxPrice with the minimum, and no balance', async () => {
    const other = await system.customer(0n);
    const otherKey = await createKey(system, other.token, ['purchase']);
    const mine = await bought((await act('getNumber', { service: 'tg', country: countryId })).body);
    expect((await act('getStatus', { id: mine.id }, otherKey.key)).body).toBe('NO_ACTIVATION');
    expect((await act('setStatus', { id: mine.id, status: '8' }, otherKey.key)).body).toBe('NO_ACTIVATION');

    expect((await act('getNumber', { service: 'tg', country: countryId }, otherKey.key)).body).toBe('NO_BALANCE');
    expect((await act('getNumberV2', { service: 'tg', country: countryId }, otherKey.key)).body).toBe('NO_BALANCE');
    expect((await act('getBalance', {}, otherKey.key)).body).toBe('ACCESS_BALANCE:0.00');

    const cheapest = (await system.container.catalog.offersForService('tg', countryIso))[0].priceMicros;
    const minimum = (Number(cheapest) / 1e6).toFixed(2);
    expect((await act('getNumber', { service: 'tg', country: countryId, maxPrice: '0.001' })).body).toBe(`WRONG_MAX_PRICE:${minimum}`);
    expect((await act('getNumber', { service: 'tg', country: countryId, maxPrice: 'cheap' })).body).toBe(`WRONG_MAX_PRICE:${minimum}`);
    // A ceiling at the price buys, and the hold is the ceiling.
    const atCeiling = await bought((await act('getNumber', { service: 'tg', country: countryId, maxPrice: minimum, operator: 'any' })).body);
    expect(atCeiling.row.heldMicros).toBe(BigInt(cheapest));
  });

  it('answers NO_NUMBERS when nothing is on sale and when every provider ran out', async () => {
    // A country nobody sells Telegram in.
    const sold = new Set((await system.container.db.offer.findMany({ where: { serviceCode: 'tg', stock: { gt: 0 } } })).map((o) => o.countryIso));
    const unsold = referenceCountries.find((c) => c.smsActivateId !== null && !sold.has(c.iso2))!;
    expect((await act('getNumber', { service: 'tg', country: String(unsold.smsActivateId) })).body).toBe('NO_NUMBERS');

    // The catalog says there is stock; the providers have none left: every one answers NO_NUMBERS.
    const offers = await system.container.db.offer.findMany({ where: { serviceCode: 'wa', countryIso, stock: { gt: 0 }, providerId: { in: Object.values(TENANT_PROVIDER) } } });
    expect(offers.length).toBeGreaterThan(0);
    for (const offer of offers) await system.sim('PUT', `/control/${tenantOf(offer.providerId)}/offers/${offer.upstreamService}/${offer.upstreamCountry}`, { stock: 0 });
    const before = await availableMicros();
    expect((await act('getNumber', { service: 'wa', country: countryId })).body).toBe('NO_NUMBERS');
    expect(await availableMicros()).toBe(before);
  });

  it('speaks the HeroSMS style only on its own path: status codes and JSON errors', async () => {
    const hero = (params: Record<string, string>) => call(params, { path: '/hero/stubs/handler_api.php' });
    expect(await hero({ action: 'getBalance', api_key: 'nope' })).toMatchObject({ status: 401, type: 'application/json' });
    expect(JSON.parse((await hero({ action: 'getBalance', api_key: 'nope' })).body)).toMatchObject({ status: 'error', message: 'BAD_KEY' });
    const missing = await hero({ api_key: buyer.key, action: 'getStatus', id: '999999999999' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ status: 'error', message: 'NO_ACTIVATION' });
    expect((await hero({ api_key: buyer.key, action: 'getBalance' })).body).toMatch(/^ACCESS_BALANCE:/);
  });

  it('audits every call, with the action and the reply but never the key', async () => {
    const marker = `probe-${randomUUID().slice(0, 8)}`;
    await act('getStatus', { id: '123', service: marker });
    const entry = await system.container.db.auditLog.findFirst({ where: { action: 'partner.handler-api', actorId: buyerId, details: { path: ['service'], equals: marker } } });
    expect(entry?.details).toMatchObject({ action: 'getStatus', reply: 'NO_ACTIVATION', apiKeyPrefix: buyer.key.split('_')[1] });
    // Junk the caller sent is recorded, escaped (a NUL would make PostgreSQL refuse the entry).
    expect(await system.container.db.auditLog.count({ where: { action: 'partner.handler-api', actorId: buyerId, details: { path: ['id'], equals: '1\\u0000' } } })).toBe(1);
    const rows = await system.container.db.auditLog.findMany({ where: { action: 'partner.handler-api' } });
    expect(JSON.stringify(rows.map((r) => [r.details, r.targetId]))).not.toContain(buyer.key.split('_')[2]);
    expect(rows.filter((r) => r.actorId === buyerId).length).toBeGreaterThan(20);
  });

  it('lets our own SMS-Activate adapter buy through SimGate as if SimGate were a provider', async () => {
    const adapter = new SmsActivateAdapter({ id: 'simgate', baseUrl: `${system.api.url}/stubs/handler_api.php`, apiKey: buyer.key, timeoutMs: 30_000 });
    const balance = await adapter.getBalance();
    expect(balance).toBe((await system.container.wallet.getWallet(buyerId)).availableMicros);
    const prices = await adapter.getPrices({ service: 'tg', country: countryId });
    expect(prices).toEqual([expect.objectContaining({ service: 'tg', country: countryId })]);
    expect((await adapter.getCountries()).map((c) => c.id)).toContain(countryId);
    expect(await adapter.getServicesList({ country: countryId })).toContainEqual({ code: 'tg', name: 'Telegram' });
    expect((await adapter.getTopCountriesByService('tg')).map((row) => row.country)).toContain(countryId);

    const number = await adapter.buy({ service: 'tg', country: countryId, maxPriceMicros: prices[0].costMicros });
    expect(number.costMicros).toBe(prices[0].costMicros);
    expect(await adapter.getStatus(number.upstreamId)).toEqual({ state: 'WAITING' });
    expect((await adapter.getOpenSales()).map((sale) => sale.upstreamId)).toContain(number.upstreamId);
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { smsActivateId: BigInt(number.upstreamId) } });
    await sendSms(row, '24680');
    await waitFor(async () => (await adapter.getStatus(number.upstreamId)).state === 'CODE', { timeoutMs: 20_000, intervalMs: 200 });
    expect(await adapter.getStatus(number.upstreamId)).toEqual({ state: 'CODE', code: '24680', text: null });
    const stored = await system.container.db.smsMessage.findFirstOrThrow({ where: { activationId: row.id } });
    expect(await adapter.getStatusV2(number.upstreamId)).toMatchObject({ state: 'ACTIVE', sms: { code: '24680', text: stored.text } });
    await expect(adapter.cancel(number.upstreamId)).rejects.toMatchObject({ kind: 'HAS_SMS' });
    await adapter.requestAnotherSms(number.upstreamId);
    expect(await adapter.getStatus(number.upstreamId)).toEqual({ state: 'WAITING_RETRY', lastCode: '24680' });
    await adapter.finish(number.upstreamId);
    expect((await system.container.db.activation.findUniqueOrThrow({ where: { id: row.id } })).status).toBe('COMPLETED');

    await expect(adapter.buy({ service: 'no-such', country: countryId })).rejects.toBeInstanceOf(ProviderError);
    const stranger = new SmsActivateAdapter({ id: 'simgate', baseUrl: `${system.api.url}/stubs/handler_api.php`, apiKey: 'wrong', timeoutMs: 10_000 });
    await expect(stranger.getBalance()).rejects.toMatchObject({ token: 'BAD_KEY' });
  });
});


describe('SMS-Activate protocol endpoint: rate limits per API key', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ env: { RATE_LIMIT_API_KEY_POINTS: '5', RATE_LIMIT_API_KEY_WINDOW_SECONDS: '60' } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('refuses a key past its limit with 429 and Retry-After, while the owner\'s other key goes on', async () => {
    const owner = await system.customer(1_000_000n);
    const busy = await createKey(system, owner.token, ['read'], 'busy script');
    const calm = await createKey(system, owner.token, ['read'], 'other script');
    const get = (key: string) => fetch(`${system.api.url}/stubs/handler_api.php?api_key=${key}&action=getBalance`);
    for (let i = 0; i < 5; i += 1) expect(await (await get(busy.key)).text()).toBe('ACCESS_BALANCE:1.00');
    const refused = await get(busy.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toBe('RATE_LIMITED');
    expect(await (await get(calm.key)).text()).toBe('ACCESS_BALANCE:1.00');
    // The same key on /api/v1 shares the limit.
    const v1 = await fetch(`${system.api.url}/api/v1/balance`, { headers: { 'x-api-key': busy.key } });
    expect(v1.status).toBe(429);
  });
});

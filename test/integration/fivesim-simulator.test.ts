import { FIVESIM_SIM_TOKEN, fivesimTenant, FivesimTenant } from '../../src/simulator';
import { formatProviderTime } from '../../src/simulator/clock';
import { useSimulator } from '../support/simulator';
import { startWebhookReceiver } from '../support/webhook-receiver';

/**
 * The simulator's 5sim v1 face over real HTTP: auth, the spec 5.1 state machine with every
 * refusal, expiry and allocation through the control clock, money and stock, the guest price
 * lists, and the traps strict clients fall into — `no free phones` with HTTP 200, RECEIVED
 * meaning "live" rather than "SMS arrived", a literal `null` price list, string-or-number ids and
 * counts, a missing `rate`, and exact content types. The base clock is frozen.
 */
const TOKEN = FIVESIM_SIM_TOKEN;

const sim = useSimulator([
  fivesimTenant(),
  fivesimTenant({ id: 'loose', looseNumbers: true }),
  { id: 'classic', apiKey: 'key-classic' },
  // Same seed as `twin`: the 5sim catalog is derived from the handler_api one.
  fivesimTenant({ id: 'twin5', seed: 42 }),
  { id: 'twin', apiKey: 'key-twin', seed: 42 },
]);
const { control } = sim;

beforeEach(async () => {
  for (const tenant of ['fivesim', 'loose']) {
    await sim.reset(tenant, { offers: { 'telegram/england': { stock: 3, price: '0.35', operator: 'virtual21', rate: 97.5 } }, balance: '10.00' });
    // One operator only, whatever the seed drew.
    for (const offer of (await control('GET', `/${tenant}/offers?service=telegram&country=england`)).json.offers) {
      if (offer.operator !== 'virtual21') sim.tenants.get(tenant)!.catalog.deleteOffer(offer);
    }
  }
});

interface RawReply {
  status: number;
  text: string;
  contentType: string | null;
}

async function api(path: string, options: { token?: string | null; tenant?: string; method?: string } = {}): Promise<RawReply> {
  const token = options.token === undefined ? TOKEN : options.token;
  const response = await fetch(`${sim.url}/${options.tenant ?? 'fivesim'}/v1${path}`, {
    method: options.method ?? 'GET',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

/** A JSON success: asserts 200 and the exact content type strict clients require. */
async function ok(path: string, options: { tenant?: string; token?: string | null } = {}): Promise<any> {
  const reply = await api(path, options);
  expect({ status: reply.status, contentType: reply.contentType }).toEqual({ status: 200, contentType: 'application/json' });
  return JSON.parse(reply.text);
}

/** A plain-text refusal: `[status, body]`, content type checked. */
async function refusal(path: string, options: { tenant?: string; token?: string | null } = {}): Promise<[number, string]> {
  const reply = await api(path, options);
  expect(reply.contentType).toBe('text/plain; charset=utf-8');
  return [reply.status, reply.text];
}

const buy = (path = 'england/any/telegram', tenant = 'fivesim') => ok(`/user/buy/activation/${path}`, { tenant });
const check = (id: number, tenant = 'fivesim') => ok(`/user/check/${id}`, { tenant });
const sms = (id: number, code: string, text?: string) => control('POST', `/fivesim/activations/${id}/sms`, text === undefined ? { code } : { code, text });
const advance = (ms: number) => control('POST', '/clock', { advanceMs: ms });
const settings = (patch: Record<string, unknown>) => control('PATCH', '/fivesim/settings', patch);
const profile = () => ok('/user/profile');
/** `2026-01-05T10:00:00`: an instant to the second, as the RFC 3339 prefix 5sim prints. */
const seconds = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const stock = async (operator = 'virtual21') => (await control('GET', `/fivesim/offers?service=telegram&country=england&operator=${operator}`)).json.offers[0].stock;

describe('transport and auth', () => {
  it('/user/* wants the bearer token: 401 with an empty body without it or with another one', async () => {
    expect(await api('/user/profile', { token: null })).toEqual({ status: 401, text: '', contentType: 'text/plain; charset=utf-8' });
    expect(await api('/user/profile', { token: 'eyJ.wrong.token' })).toMatchObject({ status: 401, text: '' });
    expect(await api('/user/buy/activation/england/any/telegram', { token: null })).toMatchObject({ status: 401 });
    expect((await profile()).balance).toBe(10);
  });

  it('/guest/* is open, and ignores a bogus token', async () => {
    expect(Object.keys(await ok('/guest/countries', { token: null }))).toContain('england');
    expect(Object.keys(await ok('/guest/countries', { token: 'nonsense' }))).toContain('england');
    expect(await ok('/guest/prices?country=england&product=telegram', { token: null })).toEqual({ england: { telegram: { virtual21: { cost: 0.35, count: 3, rate: 97.5 } } } });
  });

  it('answers unknown paths and methods with 404 `record not found`', async () => {
    expect(await refusal('/user/nothing')).toEqual([404, 'record not found']);
    expect(await refusal('/user/buy/hosting/england/any/1day')).toEqual([404, 'record not found']);
    expect((await api('/user/profile', { method: 'POST' })).status).toBe(404);
  });

  it('keeps the protocols apart: no handler_api on a 5sim tenant, no /v1 on a handler_api one', async () => {
    expect((await fetch(`${sim.url}/fivesim/stubs/handler_api.php?api_key=${TOKEN}&action=getBalance`)).status).toBe(404);
    expect((await api('/user/profile', { tenant: 'classic' })).status).toBe(404);
  });

  it('answers 429 `api limit is 100 requests per second` above the configured rate, per rolling second', async () => {
    await settings({ rateLimitPerSecond: 3 });
    for (let i = 0; i < 3; i++) expect((await api('/guest/countries')).status).toBe(200);
    expect(await refusal('/user/profile')).toEqual([429, 'api limit is 100 requests per second']);
    await settings({ rateLimitPerSecond: null });
    expect((await api('/user/profile')).status).toBe(200);
  });
});

describe('buy', () => {
  it('sells a PENDING order in the spec 1.3 shape', async () => {
    const order = await buy();
    expect(order).toEqual({
      id: expect.any(Number),
      phone: expect.stringMatching(/^\+44\d{10}$/),
      operator: 'virtual21',
      product: 'telegram',
      price: 0.35,
      status: 'PENDING',
      expires: expect.any(String),
      created_at: expect.any(String),
      country: 'england',
      forwarding: false,
      forwarding_number: '',
      sms: null,
    });
    expect(Number.isInteger(order.id) && order.id > 2 ** 31).toBe(true);
    // RFC 3339 with a sub-millisecond fraction; expires = created_at + 15 min.
    expect(order.created_at).toMatch(new RegExp(`^${seconds(sim.clock.now())}\\.\\d{4,6}Z$`));
    expect(order.expires.slice(19)).toBe(order.created_at.slice(19));
    expect(Date.parse(order.expires) - Date.parse(order.created_at)).toBe(15 * 60_000);
  });

  it('moves the price from balance to frozen_balance and takes one number from stock', async () => {
    await buy();
    expect(await profile()).toMatchObject({ balance: 9.65, frozen_balance: 0.35, total_active_orders: 1, did_order: true });
    expect(await stock()).toBe(2);
  });

  it('the trap: no stock is HTTP 200 with the text `no free phones`', async () => {
    for (let i = 0; i < 3; i++) await buy();
    expect(await api('/user/buy/activation/england/any/telegram')).toEqual({ status: 200, text: 'no free phones', contentType: 'text/plain; charset=utf-8' });
    expect((await profile()).balance).toBe(8.95);
  });

  it('honours maxPrice only with operator=any, buying the cheapest operator under it', async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 5, price: '0.50' });
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual21', stock: 1 });
    expect(await refusal('/user/buy/activation/england/any/telegram?maxPrice=0.30')).toEqual([200, 'no free phones']);
    expect((await ok('/user/buy/activation/england/any/telegram?maxPrice=0.40')).operator).toBe('virtual21');
    // virtual21 is sold out; virtual38 costs more than the ceiling.
    expect(await refusal('/user/buy/activation/england/any/telegram?maxPrice=0.40')).toEqual([200, 'no free phones']);
    // With a named operator the ceiling is ignored, as on 5sim.
    expect(await ok('/user/buy/activation/england/virtual38/telegram?maxPrice=0.40')).toMatchObject({ operator: 'virtual38', price: 0.5 });
    expect((await ok('/user/buy/activation/england/any/telegram')).operator).toBe('virtual38');
  });

  it('takes `any` country: the cheapest in stock anywhere', async () => {
    const cheapest = (await control('GET', '/fivesim/offers?service=whatsapp')).json.offers
      .filter((offer: { stock: number }) => offer.stock > 0)
      .sort((a: { price: string }, b: { price: string }) => Number(a.price) - Number(b.price))[0];
    const order = await buy('any/any/whatsapp');
    expect({ country: order.country, price: order.price }).toEqual({ country: cheapest.country, price: Number(cheapest.price) });
  });

  it('accepts the forwarding, reuse, voice and ref options', async () => {
    const order = await buy('england/any/telegram?forwarding=true&number=79990001122&reuse=1&voice=1&ref=abc');
    expect(order).toMatchObject({ forwarding: true, forwarding_number: '79990001122', status: 'PENDING' });
  });

  it('refuses with the spec 1.6 phrases and leaves stock and balance alone', async () => {
    const notInEngland = (await control('GET', '/fivesim/offers?country=england')).json.offers.map((offer: { service: string }) => offer.service);
    const unsold = [...sim.tenants.get('fivesim')!.catalog.services.keys()].find((product) => !notInEngland.includes(product))!;
    expect(await refusal('/user/buy/activation/atlantis/any/telegram')).toEqual([400, 'bad country']);
    expect(await refusal('/user/buy/activation/england/nokia/telegram')).toEqual([400, 'bad operator']);
    expect(await refusal('/user/buy/activation/england/any/zzprobezz')).toEqual([400, 'no product']);
    expect(await refusal(`/user/buy/activation/england/any/${unsold}`)).toEqual([400, 'no product']);
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual21', price: '50' });
    expect(await refusal('/user/buy/activation/england/any/telegram')).toEqual([400, 'not enough user balance']);
    expect((await profile()).balance).toBe(10);
    expect(await stock()).toBe(3);
  });
});

describe('the spec 5.1 state machine', () => {
  it('PENDING → RECEIVED: at once by default, after the allocation delay when one is set', async () => {
    const now = await buy();
    expect((await check(now.id)).status).toBe('RECEIVED');
    await settings({ allocationDelayMs: 30_000 });
    const slow = await buy();
    expect((await check(slow.id)).status).toBe('PENDING');
    await advance(29_999);
    expect((await check(slow.id)).status).toBe('PENDING');
    await advance(1);
    expect((await check(slow.id)).status).toBe('RECEIVED');
  });

  it('the trap: RECEIVED means the number is live; an SMS shows in sms[], the status stays', async () => {
    const { id } = await buy();
    expect(await check(id)).toMatchObject({ status: 'RECEIVED', sms: [] });
    await sms(id, '51234', 'Telegram code 51234');
    await sms(id, '777888');
    const order = await check(id);
    expect(order.status).toBe('RECEIVED');
    expect(order.sms).toEqual([
      {
        created_at: expect.stringMatching(new RegExp(`^${seconds(sim.clock.now())}(\\.\\d+)?Z$`)),
        date: `${seconds(sim.clock.now() - 1000)}Z`,
        sender: 'Telegram',
        text: 'Telegram code 51234',
        code: '51234',
      },
      expect.objectContaining({ code: '777888', text: 'Your Telegram code: 777888' }),
    ]);
  });

  it('finish: `order no sms` before a code; FINISHED and charged after one', async () => {
    const { id } = await buy();
    expect(await refusal(`/user/finish/${id}`)).toEqual([400, 'order no sms']);
    await sms(id, '51234');
    expect(await ok(`/user/finish/${id}`)).toMatchObject({ id, status: 'FINISHED', sms: [expect.objectContaining({ code: '51234' })] });
    expect(await profile()).toMatchObject({ balance: 9.65, frozen_balance: 0, total_active_orders: 0 });
    expect(await stock()).toBe(2);
  });

  it('cancel and ban refuse after an SMS with `order has sms`', async () => {
    const { id } = await buy();
    await sms(id, '51234');
    expect(await refusal(`/user/cancel/${id}`)).toEqual([400, 'order has sms']);
    expect(await refusal(`/user/ban/${id}`)).toEqual([400, 'order has sms']);
    expect((await check(id)).status).toBe('RECEIVED');
  });

  it('cancel: CANCELED, refunded, the number back in stock', async () => {
    const { id } = await buy();
    expect(await ok(`/user/cancel/${id}`)).toMatchObject({ id, status: 'CANCELED', sms: [] });
    expect(await profile()).toMatchObject({ balance: 10, frozen_balance: 0 });
    expect(await stock()).toBe(3);
  });

  it('ban: BANNED and refunded, but a banned number does not go back on sale', async () => {
    const { id } = await buy();
    expect(await ok(`/user/ban/${id}`)).toMatchObject({ id, status: 'BANNED' });
    expect((await profile()).balance).toBe(10);
    expect(await stock()).toBe(2);
  });

  it('`you need to wait time` before the cancel lock has passed, for cancel and ban', async () => {
    await settings({ minCancelMs: 60_000 });
    const { id } = await buy();
    expect(await refusal(`/user/cancel/${id}`)).toEqual([400, 'you need to wait time']);
    await advance(59_999);
    expect(await refusal(`/user/ban/${id}`)).toEqual([400, 'you need to wait time']);
    await advance(1);
    expect((await ok(`/user/cancel/${id}`)).status).toBe('CANCELED');
  });

  it('every action on an ended order is `order expired`', async () => {
    const cancelled = await buy();
    const banned = await buy();
    const finished = await buy();
    await ok(`/user/cancel/${cancelled.id}`);
    await ok(`/user/ban/${banned.id}`);
    await sms(finished.id, '51234');
    await ok(`/user/finish/${finished.id}`);
    for (const id of [cancelled.id, banned.id, finished.id]) {
      for (const action of ['finish', 'cancel', 'ban']) expect(await refusal(`/user/${action}/${id}`)).toEqual([400, 'order expired']);
    }
    expect((await sms(cancelled.id, '1234')).status).toBe(409);
  });

  it('expiry: TIMEOUT and refunded without an SMS, FINISHED and charged with one, exactly at `expires`', async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual21', stock: 5 });
    const silent = await buy();
    const answered = await buy();
    await sms(answered.id, '51234');
    await advance(15 * 60_000 - 1);
    expect((await check(silent.id)).status).toBe('RECEIVED');
    await advance(1);
    expect((await check(silent.id)).status).toBe('TIMEOUT');
    expect((await check(answered.id)).status).toBe('FINISHED');
    expect(await profile()).toMatchObject({ balance: 9.65, frozen_balance: 0 });
    expect(await refusal(`/user/cancel/${silent.id}`)).toEqual([400, 'order expired']);
  });

  it('honours a changed lifetime for later orders', async () => {
    await settings({ lifetimeMs: 6 * 60_000 });
    const order = await buy();
    expect(Date.parse(order.expires) - Date.parse(order.created_at)).toBe(6 * 60_000);
    await advance(6 * 60_000);
    expect((await check(order.id)).status).toBe('TIMEOUT');
  });

  it('check has no side effects', async () => {
    const { id } = await buy();
    const first = await check(id);
    expect(await check(id)).toEqual(first);
    expect((await profile()).balance).toBe(9.65);
  });

  it('`order not found` for unknown, malformed and other accounts’ ids: 404 on check, 400 on actions (as seen live)', async () => {
    const foreign = await buy('england/any/telegram', 'loose');
    for (const id of ['1', 'abc', String(foreign.id)]) {
      expect(await refusal(`/user/check/${id}`)).toEqual([404, 'order not found']);
      for (const action of ['finish', 'cancel', 'ban']) expect(await refusal(`/user/${action}/${id}`)).toEqual([400, 'order not found']);
    }
  });

  it('inbox lists the SMS with ids and wave fields', async () => {
    const { id } = await buy();
    expect(await ok(`/user/sms/inbox/${id}`)).toEqual({ Data: [], Total: 0 });
    await sms(id, '51234', 'Telegram code 51234');
    expect(await ok(`/user/sms/inbox/${id}`)).toEqual({
      Data: [{ id: expect.any(Number), created_at: expect.any(String), date: expect.any(String), sender: 'Telegram', text: 'Telegram code 51234', code: '51234', is_wave: false, wave_uuid: '' }],
      Total: 1,
    });
    expect(await refusal('/user/sms/inbox/1')).toEqual([404, 'order not found']);
  });
});

describe('orders and profile', () => {
  it('lists orders with Data, ProductNames, Statuses and Total; limit, offset, order and reverse', async () => {
    await control('PUT', '/fivesim/offers/whatsapp/england', { operator: 'virtual21', stock: 5, price: '0.20' });
    const a = await buy();
    const b = await buy('england/any/whatsapp');
    const c = await buy();
    await ok(`/user/cancel/${b.id}`);
    const all = await ok('/user/orders?category=activation');
    expect(all.Data.map((order: { id: number }) => order.id)).toEqual([a.id, b.id, c.id]);
    expect(all).toMatchObject({ ProductNames: ['telegram', 'whatsapp'], Statuses: ['RECEIVED', 'CANCELED'], Total: 3 });
    expect(all.Data[1]).toMatchObject({ status: 'CANCELED', sms: [], phone: expect.stringMatching(/^\+44/) });
    const page = await ok('/user/orders?category=activation&limit=1&offset=1&order=id&reverse=true');
    expect(page.Data.map((order: { id: number }) => order.id)).toEqual([b.id]);
    expect(page.Total).toBe(3);
    expect((await ok('/user/orders?category=activation&order=price')).Data[0].id).toBe(b.id);
    expect(await ok('/user/orders?category=hosting')).toEqual({ Data: [], ProductNames: [], Statuses: [], Total: 0 });
    expect(await refusal('/user/orders')).toEqual([400, 'bad category']);
  });

  it('reports the profile with the undocumented live fields', async () => {
    expect(await profile()).toEqual({
      id: expect.any(Number),
      email: expect.any(String),
      vendor: '',
      default_forwarding_number: '',
      balance: 10,
      rating: 96,
      default_country: { name: 'any', iso: 'any', prefix: 'any' },
      default_operator: { name: 'any' },
      frozen_balance: 0,
      did_order: false,
      is_totp: false,
      last_order: '',
      last_top_idx: 0,
      last_top_orders: '{}',
      total_active_orders: 0,
    });
    const order = await buy();
    expect((await profile()).last_order).toBe(`england:telegram:virtual21:${order.id}:0.35`);
  });

  it('the trap: string ids and counts on a tenant that answers loosely', async () => {
    const order = await buy('england/any/telegram', 'loose');
    expect(typeof order.id).toBe('number');
    const listed = await ok('/user/orders?category=activation', { tenant: 'loose' });
    expect(listed.Data[0].id).toBe(String(order.id));
    expect(await ok('/guest/prices?country=england&product=telegram', { tenant: 'loose' })).toEqual({ england: { telegram: { virtual21: { cost: 0.35, count: '2', rate: 97.5 } } } });
    expect((await ok('/guest/products/england/any', { tenant: 'loose' })).telegram).toEqual({ Category: 'activation', Qty: '2', Price: 0.35 });
  });
});

describe('guest price lists', () => {
  it('/guest/products/{country}/{operator}: Category, Qty and Price per product', async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 4, price: '0.60' });
    const products = await ok('/guest/products/england/any');
    expect(products.telegram).toEqual({ Category: 'activation', Qty: 7, Price: 0.35 });
    expect((await ok('/guest/products/england/virtual38')).telegram).toEqual({ Category: 'activation', Qty: 4, Price: 0.6 });
    expect(Object.keys(await ok('/guest/products/any/any')).length).toBeGreaterThanOrEqual(20);
    expect(await refusal('/guest/products/atlantis/any')).toEqual([400, 'bad country']);
    expect(await refusal('/guest/products/england/nokia')).toEqual([400, 'bad operator']);
  });

  it('/guest/prices: country → product → operator; ?product= alone inverts the first two levels', async () => {
    const all = await ok('/guest/prices');
    expect(all.england.telegram).toEqual({ virtual21: { cost: 0.35, count: 3, rate: 97.5 } });
    expect(Object.keys(all).length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(await ok('/guest/prices?country=england'))).toEqual(['england']);
    const byProduct = await ok('/guest/prices?product=telegram');
    expect(Object.keys(byProduct)).toEqual(['telegram']);
    expect(byProduct.telegram.england).toEqual({ virtual21: { cost: 0.35, count: 3, rate: 97.5 } });
    expect(Object.keys(byProduct.telegram).length).toBeGreaterThan(5);
    expect(await ok('/guest/prices?country=england&product=telegram')).toEqual({ england: { telegram: { virtual21: { cost: 0.35, count: 3, rate: 97.5 } } } });
  });

  it('the trap: the literal `null` when the product is not sold in the country', async () => {
    const reply = await api('/guest/prices?country=england&product=telegram');
    expect(reply.text).not.toBe('null');
    sim.tenants.get('fivesim')!.catalog.deleteOffer({ service: 'telegram', country: 'england', operator: 'virtual21' });
    expect(await api('/guest/prices?country=england&product=telegram', { token: null })).toEqual({ status: 200, text: 'null', contentType: 'application/json' });
  });

  it('the trap: `rate` is absent (not zero) for operators whose rate is unknown', async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 1, price: '0.40', rate: null });
    expect((await ok('/guest/prices?country=england&product=telegram')).england.telegram).toEqual({
      virtual21: { cost: 0.35, count: 3, rate: 97.5 },
      virtual38: { cost: 0.4, count: 1 },
    });
    // The seeded catalog has both kinds.
    const entries = Object.values(await ok('/guest/prices?product=whatsapp')).flatMap((byCountry) => Object.values(byCountry as object)).flatMap((ops) => Object.values(ops as object));
    expect(entries.some((entry) => 'rate' in entry)).toBe(true);
    expect(entries.some((entry) => !('rate' in entry))).toBe(true);
  });

  it('refuses unknown slugs with `country is incorrect` / `product is incorrect`', async () => {
    expect(await refusal('/guest/prices?country=atlantis&product=telegram')).toEqual([400, 'country is incorrect']);
    expect(await refusal('/guest/prices?country=england&product=__probe__')).toEqual([400, 'product is incorrect']);
  });

  it('/guest/countries: iso and prefix sets, names and one key per operator', async () => {
    const countries = await ok('/guest/countries');
    expect(countries.england).toMatchObject({ iso: { gb: 1 }, prefix: { '+44': 1 }, text_en: 'England', text_ru: 'Англия', virtual21: { activation: 1 } });
    expect(countries.russia).toMatchObject({ iso: { ru: 1 }, prefix: { '+7': 1 } });
    expect(countries.usa).toBeDefined();
    expect(await ok('/guest/flash/en')).toEqual({ text: expect.any(String) });
  });

  it('derives the catalog from the handler_api one with the same seed: only slugged pairs, cheapest operator = its price', () => {
    const five = sim.tenants.get('twin5')!.catalog;
    const handler = sim.tenants.get('twin')!.catalog;
    const cheapest = (product: string, country: string) =>
      five.listOffers({ service: product, country }).reduce((low, offer) => (offer.priceMicros < low ? offer.priceMicros : low), 10n ** 12n);
    expect(cheapest('telegram', 'england')).toBe(handler.offer('tg', '16')!.priceMicros);
    expect(cheapest('whatsapp', 'indonesia')).toBe(handler.offer('wa', '6')!.priceMicros);
    const pairs = new Set(five.listOffers().map((offer) => `${offer.service}:${offer.country}`));
    // Every handler_api offer except "USA (virtual)" (12) has a 5sim twin: all 25 services and 30 countries have slugs.
    expect(pairs.size).toBe(handler.listOffers().filter((offer) => offer.country !== '12').length);
    expect(five.listOffers().every((offer) => offer.operator !== undefined)).toBe(true);
  });
});

describe('control API on a 5sim tenant', () => {
  it('injects faults by endpoint name, refuses handler_api tokens', async () => {
    const { id } = await buy();
    await control('POST', '/fivesim/faults', { action: 'cancel', times: 1, reply: { status: 400, body: 'order has sms' } });
    expect(await refusal(`/user/cancel/${id}`)).toEqual([400, 'order has sms']);
    expect((await ok(`/user/cancel/${id}`)).status).toBe('CANCELED');
    expect((await control('POST', '/fivesim/faults', { times: 1, reply: { token: 'ERROR_SQL' } })).status).toBe(400);
    await control('POST', '/fivesim/faults', { action: 'profile', times: 1, reply: { hangUp: true } });
    await expect(api('/user/profile')).rejects.toThrow();
    expect((await profile()).balance).toBe(10);
  });

  it('sells but loses the reply when asked to', async () => {
    await control('POST', '/fivesim/faults', { action: 'buy', times: 1, reply: { serveThenHangUpAfterMs: 30 } });
    await expect(api('/user/buy/activation/england/any/telegram')).rejects.toThrow();
    const sold = (await control('GET', '/fivesim/activations')).json.activations;
    expect(sold).toEqual([expect.objectContaining({ service: 'telegram', country: 'england', state: 'RECEIVED' })]);
  });

  it('manages offers per operator; a PUT without operator collapses the pair to one', async () => {
    await control('PUT', '/fivesim/offers/telegram/england', { operator: 'virtual38', stock: 2, price: '0.50' });
    expect((await control('GET', '/fivesim/offers?service=telegram&country=england')).json.offers).toHaveLength(2);
    const collapsed = await control('PUT', '/fivesim/offers/telegram/england', { stock: 9 });
    expect(collapsed.json).toEqual({ service: 'telegram', country: 'england', operator: 'virtual21', rate: 97.5, stock: 9, price: '0.35' });
    expect((await control('GET', '/fivesim/offers?service=telegram&country=england')).json.offers).toHaveLength(1);
    expect((await control('PUT', '/classic/offers/tg/6', { stock: 1, operator: 'virtual21' })).status).toBe(400);
    expect((await control('PUT', '/fivesim/offers/Tele Gram/england', { stock: 1, price: 1 })).status).toBe(400);
  });

  it('shows the tenant with its protocol, frozen balance and 5sim settings', async () => {
    await buy();
    expect((await control('GET', '/fivesim')).json).toMatchObject({
      id: 'fivesim',
      protocol: 'fivesim',
      balance: '9.65',
      frozenBalance: '0.35',
      looseNumbers: false,
      activeActivations: 1,
      settings: { lifetimeMs: 900_000, minCancelMs: 0, allocationDelayMs: 0, rateLimitPerSecond: null },
    });
    expect((await control('PATCH', '/fivesim/settings', { rateLimitPerSecond: 0 })).status).toBe(400);
    expect((await control('PATCH', '/classic/settings', { allocationDelayMs: 5 })).status).toBe(400);
  });

  it('posts the SMS-Activate webhook for a 5sim order (country as SMS-Activate id)', async () => {
    const receiver = await startWebhookReceiver();
    try {
      await settings({ webhookUrl: receiver.url });
      const { id } = await buy();
      await sms(id, '51234', 'Telegram code 51234');
      expect(await receiver.next()).toEqual({ activationId: id, service: 'telegram', text: 'Telegram code 51234', code: '51234', country: 16, receivedAt: formatProviderTime(sim.clock.now()) });
    } finally {
      await receiver.close();
    }
  });

  it('autoSms delivers a code to a 5sim order on its own', async () => {
    await settings({ autoSms: { probability: 1, minDelayMs: 5, maxDelayMs: 10 } });
    const { id } = await buy();
    const deadline = Date.now() + 5_000;
    let order = await check(id);
    while (order.sms.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order = await check(id);
    }
    expect(order).toMatchObject({ status: 'RECEIVED', sms: [expect.objectContaining({ code: expect.stringMatching(/^\d{5,6}$/) })] });
  });

  it('is a FivesimTenant in the simulator’s map', () => {
    expect(sim.tenants.get('fivesim')).toBeInstanceOf(FivesimTenant);
    expect(sim.tenants.get('fivesim')!.protocol).toBe('fivesim');
  });
});

import { FivesimAdapter } from '../../src/providers/fivesim.adapter';
import { ProviderError } from '../../src/providers/types';

/**
 * Reply shapes and request details the simulator does not exercise (or exercises one way only),
 * fed through a fake fetch: headers, URL building, loose numbers, paging of the order list.
 */
interface Seen {
  url: URL;
  headers: Record<string, string>;
}

function adapterAnswering(answer: (url: URL) => { status?: number; body: string }, baseUrl = 'https://5sim.test/v1/') {
  const seen: Seen[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push({ url, headers: Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>)) });
    const { status = 200, body } = answer(url);
    return new Response(body, { status });
  }) as typeof globalThis.fetch;
  return { adapter: new FivesimAdapter({ id: 'five', baseUrl, apiKey: 'eyJtoken', timeoutMs: 1000, fetch }), seen };
}

const order = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 412345678, phone: '+4479460001', operator: 'virtual21', product: 'telegram', price: 0.12, status: 'PENDING', created_at: '2026-01-05T10:00:00.123456Z', sms: null, ...fields });

describe('FivesimAdapter requests', () => {
  it('buys at /user/buy/activation/{country}/any/{product} with the bearer token and an exact maxPrice', async () => {
    const { adapter, seen } = adapterAnswering(() => ({ body: order() }));
    expect(await adapter.buy({ service: 'telegram', country: 'england', maxPriceMicros: 14_000n })).toEqual({ upstreamId: '412345678', phone: '+4479460001', costMicros: 120_000n });
    expect(seen[0].url.pathname).toBe('/v1/user/buy/activation/england/any/telegram');
    expect(Object.fromEntries(seen[0].url.searchParams)).toEqual({ maxPrice: '0.014' });
    expect(seen[0].headers).toEqual({ authorization: 'Bearer eyJtoken', accept: 'application/json' });
    expect(seen[0].url.href).not.toContain('eyJtoken');
  });

  it('escapes what is not a slug rather than trusting it in the path', async () => {
    const { adapter, seen } = adapterAnswering(() => ({ body: order() }));
    await adapter.buy({ service: 'Tele/gram', country: 'England' });
    expect(seen[0].url.pathname).toBe('/v1/user/buy/activation/england/any/tele%2Fgram');
  });

  it('refuses a non-numeric order id without a call', async () => {
    const { adapter, seen } = adapterAnswering(() => ({ body: order() }));
    await expect(adapter.getStatus('../profile')).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    expect(seen).toHaveLength(0);
  });
});

describe('FivesimAdapter reply formats', () => {
  it('accepts string ids and prices, numeric phones, and a missing price', async () => {
    const { adapter } = adapterAnswering(() => ({ body: order({ id: '412345678', phone: 4479460001, price: '0.12' }) }));
    expect(await adapter.buy({ service: 'telegram', country: 'england' })).toEqual({ upstreamId: '412345678', phone: '+4479460001', costMicros: 120_000n });
    const { adapter: noPrice } = adapterAnswering(() => ({ body: order({ price: undefined }) }));
    expect((await noPrice.buy({ service: 'telegram', country: 'england' })).costMicros).toBeNull();
  });

  it('reads sms as null, [] or a list; an SMS without `code` or with a numeric one', async () => {
    const replies = [
      order({ status: 'RECEIVED', sms: null }),
      order({ status: 'RECEIVED', sms: [] }),
      order({ status: 'RECEIVED', sms: [{ text: 'Telegram code 51234' }] }),
      order({ status: 'PENDING', sms: [{ code: 51234, text: 'x' }] }),
      order({ status: 'FINISHED', sms: [] }),
      order({ status: 'BANNED' }),
    ];
    let next = 0;
    const { adapter } = adapterAnswering(() => ({ body: replies[next++] }));
    expect(await adapter.getStatus('1')).toEqual({ state: 'WAITING' });
    expect(await adapter.getStatus('1')).toEqual({ state: 'WAITING' });
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '51234', text: 'Telegram code 51234' });
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '51234', text: 'x' });
    expect(await adapter.getStatus('1')).toEqual({ state: 'FINISHED', code: null });
    expect(await adapter.getStatus('1')).toEqual({ state: 'CANCELLED' });
  });

  it('flattens prices with string counts and missing rates; detects the inverted nesting by its key', async () => {
    const { adapter } = adapterAnswering((url) =>
      url.searchParams.get('product') === 'telegram'
        ? { body: JSON.stringify({ telegram: { england: { virtual21: { cost: 0.3, count: '10' }, virtual38: { cost: '0.2', count: 0, rate: 99 } } } }) }
        : { body: JSON.stringify({ russia: { telegram: { mts: { cost: 0.5, count: 1, rate: 50 } } } }) },
    );
    expect(await adapter.getPrices({ service: 'telegram' })).toEqual([{ service: 'telegram', country: 'england', costMicros: 300_000n, stock: 10 }]);
    expect(await adapter.getPrices()).toEqual([{ service: 'telegram', country: 'russia', costMicros: 500_000n, stock: 1 }]);
  });

  it('reads a server that ignores ?product= and nests country first anyway', async () => {
    const { adapter } = adapterAnswering(() => ({ body: JSON.stringify({ england: { telegram: { virtual21: { cost: 0.3, count: 1 } } } }) }));
    expect(await adapter.getPrices({ service: 'telegram' })).toEqual([{ service: 'telegram', country: 'england', costMicros: 300_000n, stock: 1 }]);
  });

  it('rejects a price list of the wrong shape as TRANSIENT', async () => {
    const { adapter } = adapterAnswering(() => ({ body: '{"england":{"telegram":{"virtual21":{"cost":"cheap","count":1}}}}' }));
    await expect(adapter.getPrices()).rejects.toMatchObject({ kind: 'TRANSIENT', token: 'UNEXPECTED_REPLY' });
  });

  it('reads the balance as a string or a number', async () => {
    expect(await adapterAnswering(() => ({ body: '{"balance":"12.5085"}' })).adapter.getBalance()).toBe(12_508_500n);
    expect(await adapterAnswering(() => ({ body: '{"balance":0}' })).adapter.getBalance()).toBe(0n);
  });
});

describe('FivesimAdapter.getActiveActivations paging', () => {
  const ago = (seconds: number) => new Date(Date.UTC(2026, 0, 5, 12, 0, 0) - seconds * 1000).toISOString();

  /** `total` orders, newest first, 20 s apart; the first `live` are RECEIVED. */
  function history(total: number, live: number) {
    return Array.from({ length: total }, (_, i) => ({
      id: 1000 - i,
      phone: '+4479460001',
      product: 'telegram',
      status: i < live ? 'RECEIVED' : 'FINISHED',
      created_at: ago(i * 20),
      sms: i < live ? [{ code: String(10000 + i), text: `code ${10000 + i}` }] : [],
    }));
  }

  function pager(orders: ReturnType<typeof history>, withTotal = true) {
    return adapterAnswering((url) => {
      const offset = Number(url.searchParams.get('offset'));
      const limit = Number(url.searchParams.get('limit'));
      return { body: JSON.stringify({ Data: orders.slice(offset, offset + limit), ProductNames: [], Statuses: [], ...(withTotal ? { Total: orders.length } : {}) }) };
    });
  }

  it('asks for activation orders newest first and returns the live ones oldest first', async () => {
    const { adapter, seen } = pager(history(3, 2));
    expect(await adapter.getActiveActivations()).toEqual([
      { upstreamId: '999', service: 'telegram', phone: '+4479460001', codes: ['10001'], text: 'code 10001' },
      { upstreamId: '1000', service: 'telegram', phone: '+4479460001', codes: ['10000'], text: 'code 10000' },
    ]);
    expect(Object.fromEntries(seen[0].url.searchParams)).toEqual({ category: 'activation', limit: '100', offset: '0', order: 'id', reverse: 'true' });
    expect(seen).toHaveLength(1);
  });

  it('pages on while pages are full and recent, and stops once a page reaches an hour back', async () => {
    const { adapter, seen } = pager(history(500, 150), false);
    const live = await adapter.getActiveActivations();
    expect(live).toHaveLength(150);
    // Page 1 reaches 33 min back, page 2 66 min (more than any order lives): stop there.
    expect(seen.map((call) => call.url.searchParams.get('offset'))).toEqual(['0', '100']);
  });

  it('stops at Total', async () => {
    const { seen, adapter } = pager(history(200, 0));
    await adapter.getActiveActivations();
    expect(seen).toHaveLength(2);
  });

  it('accepts a null Data', async () => {
    const { adapter } = adapterAnswering(() => ({ body: '{"Data":null,"ProductNames":null,"Statuses":null,"Total":0}' }));
    expect(await adapter.getActiveActivations()).toEqual([]);
  });

  it('maps a refusal of the order list', async () => {
    const { adapter } = adapterAnswering(() => ({ status: 401, body: '' }));
    await expect(adapter.getActiveActivations()).rejects.toBeInstanceOf(ProviderError);
    await expect(adapter.getActiveActivations()).rejects.toMatchObject({ kind: 'REJECTED', token: 'unauthorized' });
  });
});

/** A hostile provider's text (src/lib/text.ts): cleaned, never refused — the SMS must reach the customer. */
describe('FivesimAdapter with invalid text in SMS', () => {
  it('cleans escaped and raw NULs in the code and the text of an SMS', async () => {
    const replies = [
      order({ status: 'RECEIVED', sms: [{ code: '12\u000034', text: 'Your code:\u0000 1234 \uDE00' }] }),
      order({ status: 'RECEIVED', sms: [{ code: '\u0000', text: 'Code 98\u000076' }] }),
      order({ status: 'RECEIVED' }).replace('"sms":null', '"sms":[{"code":"55\u000066","text":"raw\u0001 5566"}]'),
    ];
    let next = 0;
    const { adapter } = adapterAnswering(() => ({ body: replies[next++] }));
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '1234', text: 'Your code: 1234 \uFFFD' });
    // Nothing left of the parsed code: found in the cleaned text instead.
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '9876', text: 'Code 9876' });
    expect(await adapter.getStatus('1')).toEqual({ state: 'CODE', code: '5566', text: 'raw 5566' });
  });
});

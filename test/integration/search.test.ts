import { randomUUID } from 'node:crypto';
import { CatalogService } from '../../src/catalog/catalog.service';
import { PostgresSearchEngine, type CatalogSearchEngine, type ServiceHit } from '../../src/catalog/search';
import type { MeilisearchSearchEngine } from '../../src/catalog/search/meilisearch.engine';
import { createDb, type Db } from '../../src/db/client';
import { startSystem, type TestSystem } from '../support/system';

/**
 * Catalog search, one suite for every engine: the PostgreSQL engine always, Meilisearch too
 * when MEILI_URL points at a server (the list of engines is built conditionally, so nothing is
 * skipped). Then the HTTP routes, on the configured (default) engine.
 *
 * The run's database is shared with other test files running at the same time, whose
 * simulated providers sell the popular services (tg, wa, go …). This file's own providers sell
 * services nobody else does (the "coffee" family, Hinge Dating), so prices and stock asserted
 * below are exactly what it wrote; for the popular ones only the ranking is asserted.
 */
interface EngineFactory {
  name: string;
  create(db: Db): Promise<CatalogSearchEngine>;
  dispose?(engine: CatalogSearchEngine): Promise<void>;
}

const postgresFactory: EngineFactory = { name: 'postgres', create: async (db) => new PostgresSearchEngine({ db }) };

const meilisearchFactory: EngineFactory = {
  name: 'meilisearch',
  async create(db) {
    // Loaded only here: the client is an ES module (see src/catalog/search/index.ts).
    const { MeilisearchSearchEngine } = await import('../../src/catalog/search/meilisearch.engine.js');
    return new MeilisearchSearchEngine({ db }, { url: process.env.MEILI_URL!, apiKey: process.env.MEILI_API_KEY, indexPrefix: `test_${process.pid}_${Date.now()}_` });
  },
  async dispose(engine) {
    await (engine as MeilisearchSearchEngine).dropIndexes();
  },
};

const engines: EngineFactory[] = [postgresFactory, ...(process.env.MEILI_URL ? [meilisearchFactory] : [])];

const RUN = randomUUID().slice(0, 8);
const PROVIDER_A = `search-a-${RUN}`;
const PROVIDER_B = `search-b-${RUN}`;
const PROVIDER_OFF = `search-off-${RUN}`;

/** [provider, service, country, sell micros, stock] */
const OFFERS: [string, string, string, number, number][] = [
  // Fore Coffee: best per country GB 0.25 (6), ID 0.28 (14), FR 0.35, DE 0.40, BR 0.45, US 0.50.
  [PROVIDER_A, 'asy', 'ID', 300_000, 10],
  [PROVIDER_A, 'asy', 'GB', 250_000, 5],
  [PROVIDER_A, 'asy', 'US', 500_000, 7],
  [PROVIDER_A, 'asy', 'DE', 400_000, 1],
  [PROVIDER_A, 'asy', 'FR', 350_000, 2],
  [PROVIDER_A, 'asy', 'BR', 450_000, 3],
  [PROVIDER_A, 'asy', 'IN', 200_000, 0], // out of stock: ignored
  [PROVIDER_B, 'asy', 'ID', 280_000, 4],
  [PROVIDER_B, 'asy', 'GB', 600_000, 1],
  [PROVIDER_OFF, 'asy', 'US', 10_000, 100], // disabled provider: ignored
  // Baggins Coffee: on sale, and the cheapest service anywhere (empty-query listing).
  [PROVIDER_A, 'bin', 'ID', 2, 1],
  // Hinge Dating on sale, Hinge itself not.
  [PROVIDER_A, 'aii', 'ID', 500_000, 3],
  // The popular ones, so their ranking does not depend on other test files' simulators.
  [PROVIDER_A, 'tg', 'ID', 500_000, 10],
  [PROVIDER_A, 'wa', 'ID', 500_000, 10],
  [PROVIDER_A, 'go', 'ID', 500_000, 10],
];

let db: Db;

beforeAll(async () => {
  db = createDb(process.env.DATABASE_URL!, { max: 5 });
  await new CatalogService({ db }).seedReference();
  await db.provider.createMany({
    data: [
      { id: PROVIDER_A, displayName: 'Search A', protocol: 'SMS_ACTIVATE' },
      { id: PROVIDER_B, displayName: 'Search B', protocol: 'SMS_ACTIVATE' },
      { id: PROVIDER_OFF, displayName: 'Search off', protocol: 'SMS_ACTIVATE', enabled: false },
    ],
  });
  await db.offer.createMany({
    data: OFFERS.map(([providerId, serviceCode, countryIso, sell, stock]) => ({
      providerId,
      serviceCode,
      countryIso,
      upstreamService: serviceCode,
      upstreamCountry: countryIso,
      costMicros: BigInt(Math.floor(sell / 2)),
      sellMicros: BigInt(sell),
      stock,
    })),
  });
});

afterAll(async () => {
  const providers = [PROVIDER_A, PROVIDER_B, PROVIDER_OFF];
  await db.offer.deleteMany({ where: { providerId: { in: providers } } });
  await db.provider.deleteMany({ where: { id: { in: providers } } });
  await db.$disconnect();
});

const codes = (hits: { code: string }[]) => hits.map((hit) => hit.code);
const isos = (hits: { iso2: string }[]) => hits.map((hit) => hit.iso2);

function searchSuite(factory: EngineFactory) {
  let engine: CatalogSearchEngine;
  const services = (q: string, limit = 10) => engine.searchServices(q, { limit });
  const countries = (q: string, options: { limit?: number; serviceCode?: string } = {}) => engine.searchCountries(q, { limit: 10, ...options });

  beforeAll(async () => {
    engine = await factory.create(db);
    await engine.indexCatalog();
  });
  afterAll(async () => {
    await factory.dispose?.(engine);
  });

  test('indexing is idempotent', async () => {
    await engine.indexCatalog();
    expect(codes(await services('telegram'))[0]).toBe('tg');
  });

  describe('services', () => {
    test.each([
      ['telegram', 'tg'],
      ['Telegram', 'tg'],
      ['tg', 'tg'],
      ['whatsapp', 'wa'],
      ['vkontakte', 'vk'], // 5sim slug
      ['adda52', '5sim:adda52'], // a 5sim-only service by its slug …
      ['5sim:adda52', '5sim:adda52'], // … and by its code
    ])('exact: %j → %s first', async (q, code) => {
      const [first] = await services(q);
      expect(first).toEqual(expect.objectContaining({ code, match: 'exact', score: 1 }));
    });

    test.each([
      ['telegarm', 'tg'],
      ['whatsap', 'wa'],
      ['gogle', 'go'],
      ['telegam', 'tg'],
    ])('misspelled: %j → %s first', async (q, code) => {
      expect(codes(await services(q))[0]).toBe(code);
    });

    test.each([
      ['телеграм', 'tg'],
      ['ТЕЛЕГРАММ', 'tg'],
      ['телегрм', 'tg'], // Cyrillic with a typo
      ['ватсап', 'wa'],
      ['гугл', 'go'],
    ])('Cyrillic: %j → %s first', async (q, code) => {
      expect(codes(await services(q))[0]).toBe(code);
    });

    test('relevance: "telgram" is Telegram, without the look-alikes after it', async () => {
      for (const q of ['telgram', 'telegarm', 'whatsap']) {
        const hits = await services(q, 20);
        expect(hits[0].code).toBe(q === 'whatsap' ? 'wa' : 'tg');
        // Only what the query names (by a typo of one of its names), never what merely shares trigrams.
        expect({ q, kinds: [...new Set(hits.map((h) => h.match))].filter((k) => k === 'similar') }).toEqual({ q, kinds: [] });
        expect(hits.length).toBeLessThanOrEqual(3);
      }
    });

    // Trigrams find what is four edits away; Meilisearch's typo tolerance stops at two.
    if (factory.name === 'postgres') {
      test('relevance: look-alikes stay when nothing matches for real, as the closest suggestion', async () => {
        const hits = await services('xqzcoffeex', 20);
        expect(hits.every((h) => h.match === 'similar')).toBe(true);
        expect(codes(hits)).toContain('asy');
      });
    }

    test('a prefix finds the service as you type', async () => {
      const hits = await services('telegr');
      expect(hits[0]).toEqual(expect.objectContaining({ code: 'tg', match: 'prefix' }));
    });

    test('hits carry live best price, total stock and the five cheapest countries', async () => {
      const [fore] = await services('fore coffee');
      expect(fore).toEqual<ServiceHit>({
        code: 'asy',
        name: 'Fore Coffee',
        match: 'exact',
        score: 1,
        bestPriceMicros: '250000',
        stock: 33,
        topCountries: [
          { iso2: 'GB', name: 'United Kingdom', priceMicros: '250000', stock: 6 },
          { iso2: 'ID', name: 'Indonesia', priceMicros: '280000', stock: 14 },
          { iso2: 'FR', name: 'France', priceMicros: '350000', stock: 2 },
          { iso2: 'DE', name: 'Germany', priceMicros: '400000', stock: 1 },
          { iso2: 'BR', name: 'Brazil', priceMicros: '450000', stock: 3 },
        ],
      });
    });

    test('prices are live: a stock change shows without re-indexing', async () => {
      await db.offer.updateMany({ where: { providerId: PROVIDER_A, serviceCode: 'aii' }, data: { stock: 9 } });
      try {
        const hit = (await services('hinge dating')).find((h) => h.code === 'aii')!;
        expect(hit).toEqual(expect.objectContaining({ bestPriceMicros: '500000', stock: 9 }));
      } finally {
        await db.offer.updateMany({ where: { providerId: PROVIDER_A, serviceCode: 'aii' }, data: { stock: 3 } });
      }
    });

    test('a service nobody sells is found, with no price and no stock', async () => {
      const hit = (await services('hinge')).find((h) => h.code === 'vz')!;
      expect(hit).toEqual(expect.objectContaining({ bestPriceMicros: null, stock: 0, topCountries: [] }));
    });

    test('ranking: an exact match first even when unsold, then prefix matches', async () => {
      const hits = await services('hinge');
      expect(hits[0]).toEqual(expect.objectContaining({ code: 'vz', match: 'exact', bestPriceMicros: null }));
      expect(hits[1]).toEqual(expect.objectContaining({ code: 'aii', match: 'prefix' }));
    });

    test('ranking: among equally good matches, services on sale come first', async () => {
      const list = codes(await services('coffee', 20));
      for (const code of ['asy', 'bin', 'aik', 'ang']) expect(list).toContain(code);
      expect(Math.max(list.indexOf('asy'), list.indexOf('bin'))).toBeLessThan(Math.min(list.indexOf('aik'), list.indexOf('ang')));
    });

    test('ranking: tiers never interleave (exact, prefix, fuzzy), on sale first within each', async () => {
      const order = { exact: 0, prefix: 1, fuzzy: 2, similar: 3, none: 4 };
      for (const q of ['hinge', 'coffee', 'telegarm', 'google']) {
        const hits = await services(q, 30);
        const keys = hits.map((h) => [order[h.match], h.bestPriceMicros === null ? 1 : 0]);
        const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(keys).toEqual(sorted);
      }
    });

    test('an empty query lists services on sale, cheapest first', async () => {
      const hits = await services('', 100);
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.length).toBeLessThanOrEqual(100);
      expect(codes(hits)).toContain('bin');
      for (const hit of hits) {
        expect(hit.bestPriceMicros).not.toBeNull();
        expect(hit.stock).toBeGreaterThan(0);
        expect(hit.match).toBe('none');
      }
      const prices = hits.map((h) => BigInt(h.bestPriceMicros!));
      expect(prices).toEqual([...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(await services('   ', 5)).toHaveLength(Math.min(5, hits.length));
    });

    test('limit is honoured', async () => {
      expect(await services('coffee', 2)).toHaveLength(2);
      expect(await services('a', 3)).toHaveLength(3);
    });

    test.each([
      "'; DROP TABLE services; --",
      "' OR 1=1 --",
      'tg\' OR \'1\'=\'1',
      '%',
      '_',
      '\\',
      '%telegram%',
      '$1',
      '\u0000',
      'a'.repeat(5000),
    ].map((q) => [q.length > 40 ? `${q.slice(0, 10)}… (${q.length} characters)` : JSON.stringify(q), q]))('hostile or odd input %s is just text', async (_label, q) => {
      const hits = await services(q);
      expect(Array.isArray(hits)).toBe(true);
      expect(codes(await services('telegram'))[0]).toBe('tg');
    });

    test('"%" and "_" are not wildcards', async () => {
      const hits = await services('%');
      expect(hits).toEqual([]);
    });
  });

  describe('countries', () => {
    test.each([
      ['indonesia', 'ID'],
      ['Indonesya', 'ID'], // typo
      ['england', 'GB'], // 5sim slug
      ['uk', 'GB'],
      ['gb', 'GB'],
      ['+62', 'ID'], // dialling code
      ['россия', 'RU'], // Russian name
      ['англия', 'GB'],
      ['usa', 'US'],
    ])('%j → %s first', async (q, iso2) => {
      expect(isos(await countries(q))[0]).toBe(iso2);
    });

    test('prices for one service: the best offer and total stock of that service in each country', async () => {
      const [gb] = await countries('england', { serviceCode: 'asy' });
      expect(gb).toEqual(expect.objectContaining({ iso2: 'GB', name: 'United Kingdom', dial: '44', match: 'exact', bestPriceMicros: '250000', stock: 6 }));
      const [jp] = await countries('japan', { serviceCode: 'asy' });
      expect(jp).toEqual(expect.objectContaining({ iso2: 'JP', bestPriceMicros: null, stock: 0 }));
    });

    test('countries where the service is on sale rank above those where it is not', async () => {
      const list = isos(await countries('united', { serviceCode: 'asy', limit: 20 }));
      for (const iso of ['GB', 'US', 'AE']) expect(list).toContain(iso);
      expect(Math.max(list.indexOf('GB'), list.indexOf('US'))).toBeLessThan(list.indexOf('AE'));
    });

    test('an empty query lists the countries selling the service, cheapest first', async () => {
      const hits = await countries('', { serviceCode: 'asy' });
      expect(isos(hits)).toEqual(['GB', 'ID', 'FR', 'DE', 'BR', 'US']);
      expect(hits[1]).toEqual(expect.objectContaining({ bestPriceMicros: '280000', stock: 14, match: 'none' }));
    });

    test('limit and odd input', async () => {
      expect(await countries('', { serviceCode: 'asy', limit: 2 })).toHaveLength(2);
      expect(await countries("'; DROP TABLE countries; --")).toEqual(expect.any(Array));
      expect(isos(await countries('indonesia'))[0]).toBe('ID');
    });
  });
}

for (const factory of engines) {
  describe(`search engine: ${factory.name}`, () => searchSuite(factory));
}

describe('catalog search over HTTP', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('GET /api/catalog/services?q= keeps its shape and finds misspelled names', async () => {
    const reply = await system.request('GET', '/api/catalog/services?q=telegarm');
    expect(reply.status).toBe(200);
    expect(reply.body.services[0]).toEqual(
      expect.objectContaining({ code: 'tg', name: 'Telegram', bestPriceMicros: expect.any(String), stock: expect.any(Number), topCountries: expect.any(Array) }),
    );
  });

  test('an empty q lists services on sale', async () => {
    const reply = await system.request('GET', '/api/catalog/services?limit=5');
    expect(reply.status).toBe(200);
    expect(reply.body.services).toHaveLength(5);
    for (const service of reply.body.services) expect(service.bestPriceMicros).not.toBeNull();
  });

  test('a very long q is refused with 400, as are bad limits', async () => {
    for (const path of [`/api/catalog/services?q=${'a'.repeat(101)}`, `/api/catalog/countries?q=${'a'.repeat(101)}`, `/api/catalog/search?q=${'a'.repeat(101)}`, '/api/catalog/services?limit=0', '/api/catalog/services?limit=101']) {
      const reply = await system.request('GET', path);
      expect({ path, status: reply.status }).toEqual({ path, status: 400 });
      expect(reply.body.error).toEqual(expect.objectContaining({ code: expect.any(String) }));
    }
  });

  test('SQL-looking input is just text', async () => {
    const reply = await system.request('GET', `/api/catalog/services?q=${encodeURIComponent("'; DROP TABLE services; --")}`);
    expect(reply.status).toBe(200);
    expect((await system.request('GET', '/api/catalog/services?q=tg')).body.services[0].code).toBe('tg');
  });

  test('GET /api/catalog/countries?q=&service= prices countries for the service', async () => {
    const reply = await system.request('GET', '/api/catalog/countries?q=indo&service=tg');
    expect(reply.status).toBe(200);
    expect(reply.body.countries[0]).toEqual(expect.objectContaining({ iso2: 'ID', name: 'Indonesia', bestPriceMicros: expect.any(String) }));
    expect((await system.request('GET', '/api/catalog/countries?service=no-such-service')).status).toBe(404);
    expect((await system.request('GET', '/api/catalog/countries?q=england')).body.countries[0].iso2).toBe('GB');
  });

  test('GET /api/catalog/search?q=telgram: Telegram, and no look-alike services or countries', async () => {
    const reply = await system.request('GET', '/api/catalog/search?q=telgram');
    expect(reply.status).toBe(200);
    expect(reply.body.services[0]).toEqual(expect.objectContaining({ code: 'tg', name: 'Telegram' }));
    expect(reply.body.services.filter((s: { match: string }) => s.match === 'similar')).toEqual([]);
    expect(reply.body.countries).toEqual([]);
  });

  test('GET /api/catalog/popular: Telegram and WhatsApp among the popular services, all in stock', async () => {
    const reply = await system.request('GET', '/api/catalog/popular?limit=20');
    expect(reply.status).toBe(200);
    const list = codes(reply.body.services);
    expect(list).toEqual(expect.arrayContaining(['tg', 'wa']));
    for (const service of reply.body.services) expect(service.stock).toBeGreaterThan(0);
    expect((await system.request('GET', '/api/catalog/popular?limit=0')).status).toBe(400);
  });

  test('search hits carry their delivery record (bought, got the SMS) with its window', async () => {
    const { health } = system.container;
    for (let i = 0; i < 4; i += 1) await health.recordPurchase(PROVIDER_A, 'asy', 'GB', { dedupeKey: `delivery-${RUN}-${i}` });
    for (let i = 0; i < 3; i += 1) await health.recordSmsReceived(PROVIDER_A, 'asy', 'GB', { dedupeKey: `delivery-${RUN}-${i}` });
    // Retried activities count once.
    await health.recordPurchase(PROVIDER_A, 'asy', 'GB', { dedupeKey: `delivery-${RUN}-0` });
    // (This file's providers have no credentials, so /offers, which lists what can be bought, leaves them out.)
    const search = await system.request('GET', '/api/catalog/search?q=fore%20coffee');
    const top = search.body.services[0].topCountries;
    expect(top[0]).toEqual(expect.objectContaining({ iso2: 'GB', delivery: { purchases: 4, smsReceived: 3, windowHours: 24 } }));
    expect(top[1]).toEqual(expect.objectContaining({ iso2: 'ID', delivery: { purchases: 0, smsReceived: 0, windowHours: 24 } }));
    const popular = await system.request('GET', '/api/catalog/popular?limit=5');
    for (const service of popular.body.services) for (const country of service.topCountries) expect(country.delivery).toEqual(expect.objectContaining({ windowHours: 24 }));
  });

  test('GET /api/catalog/search?q= answers services and countries at once', async () => {
    const reply = await system.request('GET', '/api/catalog/search?q=indonesia');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ services: expect.any(Array), countries: expect.any(Array) });
    expect(reply.body.countries[0].iso2).toBe('ID');
    expect((await system.request('GET', '/api/catalog/search?q=telegram')).body.services[0].code).toBe('tg');
  });
});

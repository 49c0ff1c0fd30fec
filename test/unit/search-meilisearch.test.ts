import { referenceCountries, referenceServices } from '../../src/catalog/reference-data';
import {
  COUNTRY_INDEX_SETTINGS,
  SERVICE_INDEX_SETTINGS,
  countryDocument,
  documentId,
  indexNames,
  serviceDocument,
} from '../../src/catalog/search/meilisearch.documents';

/** The Meilisearch engine's documents and index settings, without a server. */
describe('Meilisearch documents', () => {
  test('a service on sale: searchable names, ranking attributes, generation', () => {
    const tg = referenceServices.find((s) => s.code === 'tg')!;
    expect(serviceDocument(tg, { bestPriceMicros: 350_000n, stock: 42 }, 7)).toEqual({
      id: 'tg',
      code: 'tg',
      name: 'Telegram',
      aliases: ['телеграм', 'телеграмм'],
      terms: ['tg', 'telegram', 'телеграм', 'телеграмм'],
      onSale: 1,
      bestPrice: 350_000,
      stock: 42,
      generation: 7,
    });
  });

  test('a service not on sale has no bestPrice (so it can never sort as cheap) and onSale 0', () => {
    const doc = serviceDocument({ code: 'zz', name: 'Zed', aliases: ['zz', 'zed'] }, undefined, 1);
    expect(doc).toEqual(expect.objectContaining({ onSale: 0, stock: 0 }));
    expect(doc).not.toHaveProperty('bestPrice');
    const soldOut = serviceDocument({ code: 'zz', name: 'Zed', aliases: [] }, { bestPriceMicros: '100', stock: 0 }, 1);
    expect(soldOut.onSale).toBe(0);
  });

  test('5sim-only codes get valid, distinct ids', () => {
    expect(documentId('5sim:amazon')).toBe('5sim-3a-amazon');
    const ids = referenceServices.map((s) => documentId(s.code));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,511}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // The escape cannot collide with a key that looks like an escaped one.
    expect(documentId('a-3a-b')).not.toBe(documentId('a:b'));
  });

  test('a country: ISO id, provider names, slugs and dialling code', () => {
    const gb = referenceCountries.find((c) => c.iso2 === 'GB')!;
    const doc = countryDocument({ ...gb, smsActivateNameRu: 'Англия', fiveSimSlug: 'england' }, { bestPriceMicros: 10n, stock: 3 }, 2);
    expect(doc).toEqual(
      expect.objectContaining({ id: 'GB', iso2: 'GB', name: 'United Kingdom', dial: '44', onSale: 1, bestPrice: 10, stock: 3, generation: 2 }),
    );
    expect(doc.aliases).toEqual(expect.arrayContaining(['англия', 'england', 'uk']));
    expect(doc.terms).toEqual(expect.arrayContaining(['gb', 'united kingdom', '44']));
  });
});

describe('Meilisearch settings', () => {
  test.each([
    ['services', SERVICE_INDEX_SETTINGS, ['code', 'name', 'aliases']],
    ['countries', COUNTRY_INDEX_SETTINGS, ['iso2', 'name', 'aliases', 'dial']],
  ] as const)('%s: searchable names, typo tolerance on, on-sale and price ranking', (_name, settings, searchable) => {
    expect(settings.searchableAttributes).toEqual(searchable);
    expect(settings.typoTolerance?.enabled).toBe(true);
    expect(settings.filterableAttributes).toEqual(expect.arrayContaining(['onSale', 'generation']));
    expect(settings.sortableAttributes).toEqual(expect.arrayContaining(['bestPrice', 'stock']));
    const rules = settings.rankingRules!;
    // Relevance before "on sale", "on sale" before price, price before stock.
    expect(rules.indexOf('typo')).toBeLessThan(rules.indexOf('onSale:desc'));
    expect(rules.indexOf('onSale:desc')).toBeLessThan(rules.indexOf('bestPrice:asc'));
    expect(rules.indexOf('bestPrice:asc')).toBeLessThan(rules.indexOf('stock:desc'));
    // Everything the engine reads back from a hit is displayed.
    expect(settings.displayedAttributes).toEqual(expect.arrayContaining(['name', 'terms']));
  });

  test('codes and ISO/dialling codes are exact keys: no typos there', () => {
    expect(SERVICE_INDEX_SETTINGS.typoTolerance?.disableOnAttributes).toEqual(['code']);
    expect(COUNTRY_INDEX_SETTINGS.typoTolerance?.disableOnAttributes).toEqual(['iso2', 'dial']);
  });

  test('index names carry a prefix, which must be a valid uid part', () => {
    expect(indexNames('test_1_')).toEqual({ services: 'test_1_services', countries: 'test_1_countries' });
    expect(() => indexNames('bad prefix')).toThrow();
  });
});

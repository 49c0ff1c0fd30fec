import { cheapestFirst, offerOf, pinFavourites, stockLabel, toggleFavourite } from '../../web/src/lib/catalog';

describe('web search results', () => {
  it('orders countries cheapest first by exact micros, then by stock', () => {
    const rows = [
      { iso2: 'GB', name: 'United Kingdom', priceMicros: '1000000', stock: 5 },
      { iso2: 'ID', name: 'Indonesia', priceMicros: '90000', stock: 1 },
      { iso2: 'US', name: 'United States', priceMicros: '90000', stock: 50 },
      // Above 2^53: compared as bigint, not as a float.
      { iso2: 'XA', name: 'Big A', priceMicros: '9007199254740993', stock: 1 },
      { iso2: 'XB', name: 'Big B', priceMicros: '9007199254740992', stock: 1 },
    ];
    expect(cheapestFirst(rows).map((r) => r.iso2)).toEqual(['US', 'ID', 'GB', 'XB', 'XA']);
    expect(rows[0].iso2).toBe('GB'); // not sorted in place
  });

  it('pins favourites on top, keeping the ranking otherwise', () => {
    const hits = ['wa', 'tg', 'go', 'vk'].map((code) => ({ code }));
    expect(pinFavourites(hits, ['vk', 'tg']).map((h) => h.code)).toEqual(['tg', 'vk', 'wa', 'go']);
    expect(pinFavourites(hits, []).map((h) => h.code)).toEqual(['wa', 'tg', 'go', 'vk']);
  });

  it('toggles favourites, newest first', () => {
    expect(toggleFavourite(['wa'], 'tg')).toEqual(['tg', 'wa']);
    expect(toggleFavourite(['tg', 'wa'], 'tg')).toEqual(['wa']);
  });

  it('labels stock and turns a hit into an offer', () => {
    expect(stockLabel(1234)).toBe('1,234 in stock');
    expect(stockLabel(0)).toBe('Sold out');
    expect(offerOf({ code: 'tg', name: 'Telegram' }, { iso2: 'ID', name: 'Indonesia', priceMicros: '90000', stock: 3 })).toEqual({
      serviceCode: 'tg',
      serviceName: 'Telegram',
      countryIso: 'ID',
      countryName: 'Indonesia',
      priceMicros: '90000',
      stock: 3,
      delivery: null,
    });
  });
});

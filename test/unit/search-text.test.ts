import { referenceCountries, referenceServices } from '../../src/catalog/reference-data';
import { escapeLike, similarityThreshold } from '../../src/catalog/search/postgres.engine';
import { clampLimit, normalizeQuery, MAX_QUERY_LENGTH } from '../../src/catalog/search/search-engine';
import {
  classify,
  countryTerms,
  editDistance,
  joinTerms,
  matchKind,
  referenceCountryExtras,
  referenceServiceExtras,
  serviceTerms,
  splitTerms,
  TERM_SEPARATOR,
  typoBudget,
} from '../../src/catalog/search/search-text';

/** What both engines search by: the terms built from the reference data, and query normalisation. */
const service = (code: string) => {
  const row = referenceServices.find((s) => s.code === code)!;
  return serviceTerms({ ...row, ...referenceServiceExtras().get(code) });
};
const country = (iso2: string) => {
  const row = referenceCountries.find((c) => c.iso2 === iso2)!;
  return countryTerms({ ...row, ...referenceCountryExtras().get(iso2) });
};

describe('normalizeQuery', () => {
  test.each([
    ['  Telegram  ', 'telegram'],
    ['ТЕЛЕГРАМ', 'телеграм'],
    ['Google   Voice', 'google voice'],
    ['+44', '44'],
    ['+ 7', '7'],
    ['ｔｅｌｅｇｒａｍ', 'telegram'], // full-width (NFKC)
    ['tele\u0000gram\u200b', 'tele gram'],
    ['', ''],
    ['   ', ''],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeQuery(raw)).toBe(expected);
  });

  test(`cuts at ${MAX_QUERY_LENGTH} characters`, () => {
    expect(normalizeQuery('a'.repeat(5000))).toHaveLength(MAX_QUERY_LENGTH);
  });

  test('clampLimit keeps 1..100', () => {
    expect([clampLimit(0), clampLimit(5), clampLimit(1000), clampLimit(Number.NaN), clampLimit(2.7)]).toEqual([1, 5, 100, 20, 2]);
  });
});

describe('service and country terms', () => {
  test('Telegram: code, name, aliases (Cyrillic too) and the 5sim slug, once each', () => {
    expect(service('tg')).toEqual(['tg', 'telegram', 'телеграм', 'телеграмм']);
    expect(service('vk')).toEqual(expect.arrayContaining(['vk', 'vkontakte']));
  });

  test('5sim-only services are found by their slug', () => {
    const fiveSimOnly = referenceServices.find((s) => s.code.startsWith('5sim:'))!;
    expect(service(fiveSimOnly.code)).toEqual(expect.arrayContaining([fiveSimOnly.code, fiveSimOnly.fiveSimProduct!]));
  });

  test('the United Kingdom: ISO, names in English and Russian, 5sim slug, dialling code and "uk"', () => {
    expect(country('GB')).toEqual(['gb', 'united kingdom', 'англия', 'england', '44', 'uk', 'great britain', 'britain']);
    expect(country('RU')).toEqual(expect.arrayContaining(['ru', 'russia', 'россия', '7']));
    expect(country('AE')).toEqual(expect.arrayContaining(['uae'])); // a legacy 5sim slug
  });

  test('terms never contain the separator, so exact matching on " | term | " is sound', () => {
    const all = [...referenceServices.map((s) => service(s.code)), ...referenceCountries.map((c) => country(c.iso2))];
    for (const list of all) {
      for (const term of list) {
        expect(term).not.toContain('|');
        expect(term).toBe(term.trim());
        expect(term).not.toBe('');
      }
    }
    expect(joinTerms(['a', 'b c'])).toBe(`a${TERM_SEPARATOR}b c`);
  });
});

describe('editDistance (optimal string alignment)', () => {
  test.each([
    ['telegram', 'telegram', 0],
    ['telegarm', 'telegram', 1], // swap
    ['gogle', 'google', 1], // dropped letter
    ['whatsaap', 'whatsapp', 1], // changed letter
    ['hqnge', 'hinge', 1],
    ['siganl', 'signal', 1],
    ['телегрм', 'телеграм', 1], // by code point, Cyrillic too
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
  ] as const)('%j → %j: %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  test('stops early above the bound', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 1)).toBe(2);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });

  test('typo budget: none below 4 characters, one from 4, two from 8', () => {
    expect([3, 4, 7, 8, 20].map(typoBudget)).toEqual([0, 1, 1, 2, 2]);
  });
});

describe('classify', () => {
  const tg = ['tg', 'telegram', 'телеграм'];
  test.each([
    ['tg', 'exact', 0],
    ['телеграм', 'exact', 0],
    ['tele', 'prefix', 0],
    ['telegarm', 'fuzzy', 1],
    ['telegrma', 'fuzzy', 1],
    ['telegrxm', 'fuzzy', 1],
    ['telxgrxm', 'fuzzy', 2], // two edits allowed from 8 characters
    ['tlg', 'similar', 1], // three characters: no typo allowed
    ['television', 'similar', 3],
    ['', 'none', 0],
  ] as const)('%j is %s (distance %d)', (query, match, distance) => {
    expect(classify(query, tg)).toEqual({ match, distance });
    expect(matchKind(query, tg)).toBe(match);
  });

  test('words inside terms count: a prefix of a later word, a typo of one word of several', () => {
    expect(matchKind('voice', ['gf', 'google voice'])).toBe('prefix');
    expect(matchKind('gmail', ['go', 'google (gmail, youtube)'])).toBe('prefix');
    expect(matchKind('yutube', ['go', 'google (gmail, youtube)'])).toBe('fuzzy');
  });

  test('a word still being typed, with a typo in it', () => {
    expect(classify('whatsaap', ['wa', 'whatsapp business'])).toEqual({ match: 'fuzzy', distance: 1 });
    expect(classify('telrgr', ['tg', 'telegram'])).toEqual({ match: 'fuzzy', distance: 1 });
  });

  test('splitTerms undoes joinTerms', () => {
    expect(splitTerms(joinTerms(['a', 'b c']))).toEqual(['a', 'b c']);
    expect(splitTerms('')).toEqual([]);
  });
});

describe('PostgreSQL engine helpers', () => {
  test('LIKE escaping keeps %, _ and \\ literal', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\');
  });

  test('short queries need a closer match; long ones cast a wide net for the edit-distance tiering', () => {
    expect(similarityThreshold('a')).toBeGreaterThan(similarityThreshold('telegarm'));
    expect(similarityThreshold('tg')).toBeGreaterThan(similarityThreshold('telegarm'));
    // One typo inside a short word keeps a third of its trigrams ("hqnge" in "hinge": 0.333).
    expect(similarityThreshold('hqnge')).toBeLessThanOrEqual(0.33);
    expect(similarityThreshold('телегрм')).toBe(similarityThreshold('telegrm'));
  });
});

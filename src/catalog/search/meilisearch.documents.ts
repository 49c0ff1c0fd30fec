import type { Settings } from 'meilisearch';
import { countryTerms, serviceTerms, type CountryTermsInput, type ServiceTermsInput } from './search-text';

/**
 * What the Meilisearch engine stores: documents and index settings, pure functions of catalog
 * rows so they are unit-tested without a server (test/unit/search-meilisearch.test.ts). The
 * client itself is loaded only by meilisearch.engine.ts.
 */

export interface ServiceDocument {
  /** Meilisearch ids allow [A-Za-z0-9_-]: see documentId(). */
  id: string;
  code: string;
  name: string;
  /** Every other term (aliases, other-language names, 5sim slugs), lower case. */
  aliases: string[];
  /** All terms, code and name included: the engine's exact/prefix tiering reads them from the hit. */
  terms: string[];
  /** 1 when any enabled provider has stock at indexing time: a ranking rule, refreshed by indexCatalog(). */
  onSale: 0 | 1;
  /** Cheapest sell price in micro-dollars at indexing time; absent when not on sale. */
  bestPrice?: number;
  stock: number;
  /** indexCatalog() run that wrote the document; older ones are deleted after each run. */
  generation: number;
}

export interface CountryDocument {
  id: string;
  iso2: string;
  name: string;
  dial: string;
  aliases: string[];
  terms: string[];
  onSale: 0 | 1;
  bestPrice?: number;
  stock: number;
  generation: number;
}

/** Offer figures at indexing time (any country for a service, any service for a country). */
export interface IndexFigures {
  bestPriceMicros: bigint | string | null;
  stock: number;
}

/**
 * A valid, unique Meilisearch document id for a catalog key: letters, digits and `_` stay, every
 * other character becomes `-<hex code point>-` (`5sim:amazon` → `5sim-3a-amazon`). Catalog keys
 * never contain `-`, and the escape is unambiguous anyway since `-` itself is escaped.
 */
export function documentId(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, (c) => `-${c.codePointAt(0)!.toString(16)}-`);
}

function priced(figures: IndexFigures | undefined): Pick<ServiceDocument, 'onSale' | 'bestPrice' | 'stock'> {
  if (!figures || figures.bestPriceMicros === null || figures.stock <= 0) return { onSale: 0, stock: 0 };
  return { onSale: 1, bestPrice: Number(figures.bestPriceMicros), stock: figures.stock };
}

export function serviceDocument(service: ServiceTermsInput, figures: IndexFigures | undefined, generation: number): ServiceDocument {
  const all = serviceTerms(service);
  const own = new Set([service.code.toLowerCase(), service.name.toLowerCase()]);
  return {
    id: documentId(service.code),
    code: service.code,
    name: service.name,
    aliases: all.filter((term) => !own.has(term)),
    terms: all,
    ...priced(figures),
    generation,
  };
}

export function countryDocument(country: CountryTermsInput, figures: IndexFigures | undefined, generation: number): CountryDocument {
  const all = countryTerms(country);
  const own = new Set([country.iso2.toLowerCase(), country.name.toLowerCase(), country.dial]);
  return {
    id: documentId(country.iso2),
    iso2: country.iso2,
    name: country.name,
    dial: country.dial,
    aliases: all.filter((term) => !own.has(term)),
    terms: all,
    ...priced(figures),
    generation,
  };
}

/**
 * Relevance first (all query words, fewest typos, exact words over prefixes), then what is on
 * sale, then the usual text rules, then cheapest and most stocked. For an empty (placeholder)
 * query only the custom rules apply: on sale, cheapest, most stocked — as the PostgreSQL engine.
 */
const RANKING_RULES = ['words', 'typo', 'exactness', 'onSale:desc', 'proximity', 'attribute', 'sort', 'bestPrice:asc', 'stock:desc'];

export const SERVICE_INDEX_SETTINGS: Settings = {
  searchableAttributes: ['code', 'name', 'aliases'],
  displayedAttributes: ['code', 'name', 'terms', 'onSale', 'bestPrice', 'stock'],
  filterableAttributes: ['onSale', 'generation', 'code'],
  sortableAttributes: ['bestPrice', 'stock', 'name'],
  rankingRules: RANKING_RULES,
  // Brand names are short: one typo from 4 letters ("gogle"), two from 8 ("telegarm" is a swap).
  // Codes (`tg`, `abn`) are exact keys, never "close to" another code.
  typoTolerance: { enabled: true, minWordSizeForTypos: { oneTypo: 4, twoTypos: 8 }, disableOnAttributes: ['code'] },
  pagination: { maxTotalHits: 1000 },
};

export const COUNTRY_INDEX_SETTINGS: Settings = {
  searchableAttributes: ['iso2', 'name', 'aliases', 'dial'],
  displayedAttributes: ['iso2', 'name', 'dial', 'terms', 'onSale', 'bestPrice', 'stock'],
  filterableAttributes: ['onSale', 'generation', 'iso2'],
  sortableAttributes: ['bestPrice', 'stock', 'name'],
  rankingRules: RANKING_RULES,
  typoTolerance: { enabled: true, minWordSizeForTypos: { oneTypo: 4, twoTypos: 8 }, disableOnAttributes: ['iso2', 'dial'] },
  pagination: { maxTotalHits: 1000 },
};

export interface MeiliIndexNames {
  services: string;
  countries: string;
}

/** Index uids under a prefix, so tests and benches never touch the live indexes. */
export function indexNames(prefix: string): MeiliIndexNames {
  if (!/^[A-Za-z0-9_-]*$/.test(prefix)) throw new Error(`Meilisearch index prefix must be [A-Za-z0-9_-]: ${prefix}`);
  return { services: `${prefix}services`, countries: `${prefix}countries` };
}

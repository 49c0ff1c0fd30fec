/**
 * Catalog search: one interface, two engines (postgres.engine.ts, the embedded default, and
 * meilisearch.engine.ts). Both promise the same behaviour, checked by one shared test suite
 * (test/integration/search.test.ts):
 *
 * - typo-tolerant ("telegarm", "whatsap", "gogle") and alias-aware (`tg`, `телеграм`, 5sim slugs
 *   such as `england` → GB, dialling codes such as `+44`);
 * - an exact code / alias / name match ranks first, then a word prefix, then a typo (edit
 *   distance within budget), then what is merely similar; within each tier what is on sale ranks
 *   above what is not (MatchKind, figures.ts byTierThenOnSale);
 * - hits that are merely similar are left out when anything matched for real (relevantOnly);
 * - an empty query lists what is on sale, cheapest first, then the most stocked;
 * - prices and stock are live (read from `offers` at query time), never a stale index copy.
 */

/**
 * How a hit matched, best first: the query is one of its terms (code, alias, name, slug, ISO
 * code, dialling code); the start of one of their words; within the typo budget of a term or
 * word (one edit from 4 characters, two from 8, as Meilisearch); only similar (shared trigrams);
 * or — for an empty query — nothing.
 */
export type MatchKind = 'exact' | 'prefix' | 'fuzzy' | 'similar' | 'none';

export const MATCH_RANK: Record<MatchKind, number> = { exact: 4, prefix: 3, fuzzy: 2, similar: 1, none: 0 };

/** Whether any hit is what the query names (exactly, by a word's start, or by a typo). */
export const hasRealMatch = (hits: readonly { match: MatchKind }[]) => hits.some((hit) => MATCH_RANK[hit.match] > MATCH_RANK.similar);

/**
 * Hits that only look alike (shared trigrams, no typo of any name) are kept only when nothing
 * better matched: "telgram" is Telegram, not Telegram followed by seven services that happen to
 * share "gra" or "ram". With no real match they stay — the closest names are then the best
 * suggestion there is.
 */
export function relevantOnly<T extends { match: MatchKind }>(hits: readonly T[], realMatchElsewhere = false): T[] {
  return realMatchElsewhere || hasRealMatch(hits) ? hits.filter((hit) => hit.match !== 'similar') : [...hits];
}

/** A country where a service is sold: the best sell price across enabled providers and their total stock. */
export interface CountryPrice {
  iso2: string;
  name: string;
  priceMicros: string;
  stock: number;
}

export interface ServiceHit {
  code: string;
  name: string;
  /** Engine-specific relevance in [0, 1], higher is better (1 for an exact match); 0 for an empty query. */
  score: number;
  match: MatchKind;
  /** Cheapest sell price in any country, null when nothing is in stock. */
  bestPriceMicros: string | null;
  stock: number;
  /** Up to TOP_COUNTRIES countries, cheapest first (then most stocked). */
  topCountries: CountryPrice[];
}

export interface CountryHit {
  iso2: string;
  name: string;
  dial: string;
  score: number;
  match: MatchKind;
  /** For the requested service when one was given, otherwise for any service. */
  bestPriceMicros: string | null;
  stock: number;
}

export interface SearchOptions {
  limit: number;
}

export interface CountrySearchOptions extends SearchOptions {
  /** Catalog service code: prices, stock and "on sale" then refer to this service. */
  serviceCode?: string;
}

export type SearchEngineName = 'postgres' | 'meilisearch';

export interface CatalogSearchEngine {
  readonly name: SearchEngineName;
  /** (Re)builds what the engine searches from the services, countries and offers tables; idempotent. */
  indexCatalog(): Promise<void>;
  searchServices(query: string, options: SearchOptions): Promise<ServiceHit[]>;
  searchCountries(query: string, options: CountrySearchOptions): Promise<CountryHit[]>;
}

/** Longest query the engines look at; the HTTP layer refuses longer ones with a 400. */
export const MAX_QUERY_LENGTH = 100;
export const MAX_LIMIT = 100;
export const TOP_COUNTRIES = 5;

/**
 * What the engines compare: NFKC, lower case, single spaces, no control characters, no leading
 * `+` (so `+44` finds a dialling code), at most MAX_QUERY_LENGTH characters.
 */
export function normalizeQuery(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/[\p{Cc}\p{Cf}]/gu, ' ')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\+\s*/, '')
    .slice(0, MAX_QUERY_LENGTH)
    .trim();
}

export function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 20;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

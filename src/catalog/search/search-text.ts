import type { MatchKind } from './search-engine';
import { referenceCountries, referenceServices, type ReferenceCountry, type ReferenceService } from '../reference-data';

/**
 * The text each service and country is found by: every name it goes by, lower-cased, as
 * `term | term | …`. The separator keeps term boundaries, so "is the query exactly one of the
 * terms" is a LIKE on ` | <query> | `, while pg_trgm and Meilisearch see only the words.
 */
export const TERM_SEPARATOR = ' | ';

/** Reference rows carry more fields than reference-data.ts types; these are the ones search reads. */
type ServiceRow = ReferenceService & { fiveSimRelated?: string[] };
type CountryRow = ReferenceCountry & {
  smsActivateName?: string | null;
  smsActivateNameRu?: string | null;
  fiveSimName?: string | null;
  fiveSimLegacySlug?: string | null;
};

export function normalizeTerm(term: string): string {
  return term.normalize('NFKC').replace(/\|/g, ' ').replace(/[\p{Cc}\p{Cf}]/gu, ' ').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Distinct non-empty normalised terms, first occurrence first. */
export function terms(values: ReadonlyArray<string | null | undefined>): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    const term = normalizeTerm(value);
    if (term) seen.add(term);
  }
  return [...seen];
}

export interface ServiceTermsInput {
  code: string;
  name: string;
  aliases: readonly string[];
  fiveSimProduct?: string | null;
  fiveSimRelated?: readonly string[];
}

/** Code first, then the display name, the aliases (which already hold most spellings) and the 5sim slugs. */
export function serviceTerms(service: ServiceTermsInput): string[] {
  return terms([service.code, service.name, ...service.aliases, service.fiveSimProduct, ...(service.fiveSimRelated ?? [])]);
}

export interface CountryTermsInput {
  iso2: string;
  name: string;
  dial: string;
  smsActivateName?: string | null;
  smsActivateNameRu?: string | null;
  fiveSimName?: string | null;
  fiveSimSlug?: string | null;
  fiveSimLegacySlug?: string | null;
}

/**
 * Hand-added everyday names that no provider list carries (see shared/data/README.md, "Hand-added
 * content"): people type "uk", not "gb" or "england".
 */
export const COUNTRY_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  GB: ['uk', 'great britain', 'britain'],
  US: ['america', 'united states of america'],
  AE: ['emirates'],
  NL: ['holland'],
};

export function countryTerms(country: CountryTermsInput): string[] {
  return terms([
    country.iso2,
    country.name,
    country.smsActivateName,
    country.smsActivateNameRu,
    country.fiveSimName,
    country.fiveSimSlug,
    country.fiveSimLegacySlug,
    country.dial,
    ...(COUNTRY_SYNONYMS[country.iso2.toUpperCase()] ?? []),
  ]);
}

export const joinTerms = (list: readonly string[]): string => list.join(TERM_SEPARATOR);

/** Reference extras (5sim slugs) by service code, for rows whose DB columns lack them. */
export function referenceServiceExtras(): Map<string, Pick<ServiceTermsInput, 'fiveSimProduct' | 'fiveSimRelated'>> {
  return new Map((referenceServices as ServiceRow[]).map((s) => [s.code, { fiveSimProduct: s.fiveSimProduct, fiveSimRelated: s.fiveSimRelated ?? [] }]));
}

/** Provider names and slugs of each country by ISO code (the countries table holds only name and dial). */
export function referenceCountryExtras(): Map<string, Omit<CountryTermsInput, 'iso2' | 'name' | 'dial'>> {
  return new Map(
    (referenceCountries as CountryRow[]).map((c) => [
      c.iso2,
      {
        smsActivateName: c.smsActivateName ?? null,
        smsActivateNameRu: c.smsActivateNameRu ?? null,
        fiveSimName: c.fiveSimName ?? null,
        fiveSimSlug: c.fiveSimSlug ?? null,
        fiveSimLegacySlug: c.fiveSimLegacySlug ?? null,
      },
    ]),
  );
}

/** Typos allowed for a query of this many characters: none below 4, one from 4, two from 8 (Meilisearch's defaults). */
export function typoBudget(length: number): number {
  if (length < 4) return 0;
  return length < 8 ? 1 : 2;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus swapping two neighbours, each one edit),
 * by code point; stops early and returns `max + 1` once the answer is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  if (s.length === 0 || t.length === 0) return Math.max(s.length, t.length);
  let before = new Array<number>(t.length + 1).fill(0);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  let current = new Array<number>(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i += 1) {
    current[0] = i;
    let rowMin = current[0];
    for (let j = 1; j <= t.length; j += 1) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) value = Math.min(value, before[j - 2] + 1);
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[t.length];
}

const WORD_SPLIT = /[^\p{L}\p{N}]+/u;

export interface Classification {
  match: MatchKind;
  /** Edits to the closest term, word or word start (0 for exact and prefix matches, budget + 1 when none is close). */
  distance: number;
}

/**
 * How `query` (normalised) matches a list of terms — the tier both engines rank by: one of the
 * terms (`exact`); the start of a term or of one of its words (`prefix`); within the typo budget
 * of a term, a word, or a word's first characters (`fuzzy`: "telegarm", "whatsaap", "gogle");
 * otherwise `similar` (an engine found it, but it is not a typo of anything it is called).
 */
export function classify(query: string, list: readonly string[]): Classification {
  if (query === '') return { match: 'none', distance: 0 };
  if (list.includes(query)) return { match: 'exact', distance: 0 };
  const words = list.flatMap((term) => term.split(WORD_SPLIT)).filter(Boolean);
  if (list.some((term) => term.startsWith(query) || term.includes(` ${query}`)) || words.some((word) => word.startsWith(query))) {
    return { match: 'prefix', distance: 0 };
  }
  const length = [...query].length;
  const budget = typoBudget(length);
  let best = budget + 1;
  if (budget > 0) {
    for (const candidate of new Set([...list, ...words])) {
      best = Math.min(best, editDistance(query, candidate, budget));
      // A word still being typed: compare with its start (one longer, for a dropped letter).
      const chars = [...candidate];
      if (chars.length > length) {
        best = Math.min(best, editDistance(query, chars.slice(0, length).join(''), budget), editDistance(query, chars.slice(0, length + 1).join(''), budget));
      }
      // Distance 0 would have been a prefix match: one edit is the best there is.
      if (best === 1) break;
    }
  }
  return best <= budget ? { match: 'fuzzy', distance: best } : { match: 'similar', distance: budget + 1 };
}

export function matchKind(query: string, list: readonly string[]): MatchKind {
  return classify(query, list).match;
}

/** search_text back into its terms. */
export const splitTerms = (text: string): string[] => (text ? text.split(TERM_SEPARATOR) : []);

import type { Db } from '../../db/client';
import { NO_COUNTRY_FIGURES, NO_SERVICE_FIGURES, countriesOnSale, countryFigures, serviceFigures, servicesOnSale } from './figures';
import {
  MATCH_RANK,
  clampLimit,
  normalizeQuery,
  relevantOnly,
  type CatalogSearchEngine,
  type CountryHit,
  type CountrySearchOptions,
  type SearchOptions,
  type ServiceHit,
} from './search-engine';
import { classify, countryTerms, joinTerms, referenceCountryExtras, referenceServiceExtras, serviceTerms, splitTerms } from './search-text';

/** Arbitrary constant: concurrent indexCatalog() calls (API, worker, tests) take turns. */
const INDEX_LOCK_ID = 7_246_613_101;
const UPDATE_CHUNK = 1000;

/**
 * word_similarity threshold by query length: what makes a row a candidate. Trigrams are a coarse
 * sieve — one typo in a 5–6 letter word can leave 0.29–0.43 of it ("smlies"/"smiles",
 * "hqnge"/"hinge", "siganl"/"signal") — so long queries cast a wide net (0.25: 15–150 candidates
 * on a 2,500-service catalog) and the edit-distance tiering
 * (search-text.ts classify) sorts typos from mere look-alikes. Short queries need more: for one
 * or two characters only words starting with them ("tg" shares 2 of its 3 trigrams with "tgx…").
 */
export function similarityThreshold(query: string): number {
  const length = [...query].length;
  if (length === 1) return 0.5;
  if (length === 2) return 0.6;
  if (length === 3) return 0.45;
  return length === 4 ? 0.35 : 0.25;
}

/** Candidates taken from PostgreSQL before tiering (exact and prefix matches always among them). */
const CANDIDATES = 200;

/** LIKE pattern text matching `value` literally (backslash is PostgreSQL's default LIKE escape). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface Candidate {
  search_text: string;
  sim: number;
  on_sale: boolean;
}

/** Tier, on sale, fewest edits, most similar, name: the order both engines promise (search-engine.ts). */
function rank<T extends Candidate & { name: string }>(query: string, rows: readonly T[], limit: number) {
  return relevantOnly(rows.map((row) => ({ row, ...classify(query, splitTerms(row.search_text)) })))
    .sort(
      (a, b) =>
        MATCH_RANK[b.match] - MATCH_RANK[a.match] ||
        Number(b.row.on_sale) - Number(a.row.on_sale) ||
        a.distance - b.distance ||
        b.row.sim - a.row.sim ||
        (a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0),
    )
    .slice(0, limit)
    .map(({ row, match }) => ({ row, match, score: match === 'exact' ? 1 : Math.round(Number(row.sim) * 1000) / 1000 }));
}

/**
 * Sets the candidate threshold for the query's transaction, and steers the planner to the
 * trigram index: on a few thousand rows it estimates a sequential scan cheaper, which then
 * computes word_similarity for every row (≈7 ms on 2,500 services against ≈1.5–2 ms through
 * `services_search_text_trgm`; see bench/search.ts). Both settings end with the transaction.
 */
const prepare = (db: Db, query: string) =>
  db.$queryRaw`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(similarityThreshold(query))}, true),
    set_config('enable_seqscan', 'off', true)`;

/**
 * The embedded engine: pg_trgm over `services.search_text` / `countries.search_text` (GIN
 * `gin_trgm_ops` indexes, migration 20261125130000).
 *
 * 1. Candidates: `query <% search_text` — word similarity above a per-query threshold, set for
 *    the query's own transaction (set_config(…, true) = SET LOCAL), answered by the GIN index —
 *    at most CANDIDATES of them, exact and prefix matches first, then the most similar.
 * 2. Tiers (search-text.ts classify): exact, prefix, fuzzy (edit distance within the typo
 *    budget), similar; on sale first within each; then fewer edits, more similar, name.
 * 3. Live prices, stock and top countries for the page (figures.ts).
 *
 * The empty query ("what is on sale, cheapest first") aggregates every offer — about 200 ms on
 * 560,000 offers — so its order is cached in the process for `listingTtlMs` (figures stay live;
 * indexCatalog() clears it).
 */
export class PostgresSearchEngine implements CatalogSearchEngine {
  readonly name = 'postgres' as const;
  private readonly listingTtlMs: number;
  private readonly listings = new Map<string, { expires: number; rows: Promise<{ key: string; name: string; dial?: string }[]> }>();

  constructor(
    private readonly deps: { db: Db; now?: () => number },
    options: { listingTtlMs?: number } = {},
  ) {
    this.listingTtlMs = options.listingTtlMs ?? 10_000;
  }

  /** Fills search_text from the tables plus the reference data's provider names and slugs; writes only rows that changed. */
  async indexCatalog(): Promise<void> {
    const { db } = this.deps;
    const serviceExtras = referenceServiceExtras();
    const countryExtras = referenceCountryExtras();
    const services = await db.service.findMany({ select: { code: true, name: true, aliases: true, searchText: true } });
    const countries = await db.country.findMany({ select: { iso2: true, name: true, dial: true, searchText: true } });
    const serviceUpdates = services
      .map((s) => ({ key: s.code, old: s.searchText, text: joinTerms(serviceTerms({ ...s, ...serviceExtras.get(s.code) })) }))
      .filter((row) => row.text !== row.old);
    const countryUpdates = countries
      .map((c) => ({ key: c.iso2, old: c.searchText, text: joinTerms(countryTerms({ ...c, ...countryExtras.get(c.iso2) })) }))
      .filter((row) => row.text !== row.old);
    this.listings.clear();
    if (serviceUpdates.length === 0 && countryUpdates.length === 0) return;
    await db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${INDEX_LOCK_ID})`;
        for (let i = 0; i < serviceUpdates.length; i += UPDATE_CHUNK) {
          const chunk = serviceUpdates.slice(i, i + UPDATE_CHUNK);
          await tx.$executeRaw`
            UPDATE services s SET search_text = v.text
            FROM unnest(${chunk.map((r) => r.key)}::text[], ${chunk.map((r) => r.text)}::text[]) AS v(code, text)
            WHERE s.code = v.code AND s.search_text IS DISTINCT FROM v.text`;
        }
        for (let i = 0; i < countryUpdates.length; i += UPDATE_CHUNK) {
          const chunk = countryUpdates.slice(i, i + UPDATE_CHUNK);
          await tx.$executeRaw`
            UPDATE countries c SET search_text = v.text
            FROM unnest(${chunk.map((r) => r.key)}::text[], ${chunk.map((r) => r.text)}::text[]) AS v(iso2, text)
            WHERE c.iso2 = v.iso2 AND c.search_text IS DISTINCT FROM v.text`;
        }
      },
      { timeout: 60_000 },
    );
  }

  async searchServices(raw: string, options: SearchOptions): Promise<ServiceHit[]> {
    const { db } = this.deps;
    const query = normalizeQuery(raw);
    const limit = clampLimit(options.limit);
    if (query === '') {
      const listed = await this.listing('services', () => servicesOnSale(db, LISTING_SIZE).then((rows) => rows.map((r) => ({ key: r.code, name: r.name }))));
      // The order may be a few seconds old; what is shown is live, and what sold out meanwhile is left out.
      const figures = await serviceFigures(db, listed.slice(0, limit + LISTING_SLACK).map((row) => row.key));
      return listed
        .filter((row) => figures.has(row.key))
        .slice(0, limit)
        .map((row) => ({ code: row.key, name: row.name, score: 0, match: 'none' as const, ...figures.get(row.key)! }));
    }
    const like = escapeLike(query);
    const [, rows] = await db.$transaction([
      prepare(db, query),
      db.$queryRaw<({ code: string; name: string } & Candidate)[]>`
        SELECT c.*, EXISTS (
            SELECT 1 FROM offers o JOIN providers p ON p.id = o.provider_id AND p.enabled
            WHERE o.service_code = c.code AND o.stock > 0) AS on_sale
        FROM (
          SELECT s.code, s.name, s.search_text, word_similarity(${query}, s.search_text) AS sim
          FROM services s
          WHERE ${query} <% s.search_text
          ORDER BY CASE
              WHEN ' | ' || s.search_text || ' | ' LIKE ${`% | ${like} | %`} THEN 2
              WHEN s.search_text LIKE ${`${like}%`} OR s.search_text LIKE ${`% ${like}%`} THEN 1
              ELSE 0 END DESC,
            sim DESC, s.code
          LIMIT ${CANDIDATES}
        ) c`,
    ]);
    const ranked = rank(query, rows, limit);
    const figures = await serviceFigures(db, ranked.map(({ row }) => row.code));
    return ranked.map(({ row, match, score }) => ({ code: row.code, name: row.name, score, match, ...(figures.get(row.code) ?? NO_SERVICE_FIGURES) }));
  }

  async searchCountries(raw: string, options: CountrySearchOptions): Promise<CountryHit[]> {
    const { db } = this.deps;
    const query = normalizeQuery(raw);
    const limit = clampLimit(options.limit);
    const service = options.serviceCode ?? null;
    if (query === '') {
      // For one service the offers index answers at once; across all services the order is cached.
      const listed = service
        ? (await countriesOnSale(db, limit, service)).map((r) => ({ key: r.iso2, name: r.name, dial: r.dial }))
        : await this.listing('countries', () => countriesOnSale(db, LISTING_SIZE).then((rows) => rows.map((r) => ({ key: r.iso2, name: r.name, dial: r.dial }))));
      const figures = await countryFigures(db, listed.slice(0, limit + LISTING_SLACK).map((row) => row.key), options.serviceCode);
      return listed
        .filter((row) => figures.has(row.key))
        .slice(0, limit)
        .map((row) => ({ iso2: row.key, name: row.name, dial: row.dial ?? '', score: 0, match: 'none' as const, ...figures.get(row.key)! }));
    }
    const like = escapeLike(query);
    const [, rows] = await db.$transaction([
      prepare(db, query),
      db.$queryRaw<({ iso2: string; name: string; dial: string } & Candidate)[]>`
        SELECT c.*, EXISTS (
            SELECT 1 FROM offers o JOIN providers p ON p.id = o.provider_id AND p.enabled
            WHERE o.country_iso = c.iso2 AND o.stock > 0 AND (${service}::text IS NULL OR o.service_code = ${service}::text)) AS on_sale
        FROM (
          SELECT k.iso2, k.name, k.dial, k.search_text, word_similarity(${query}, k.search_text) AS sim
          FROM countries k
          WHERE ${query} <% k.search_text
          ORDER BY CASE
              WHEN ' | ' || k.search_text || ' | ' LIKE ${`% | ${like} | %`} THEN 2
              WHEN k.search_text LIKE ${`${like}%`} OR k.search_text LIKE ${`% ${like}%`} THEN 1
              ELSE 0 END DESC,
            sim DESC, k.iso2
          LIMIT ${CANDIDATES}
        ) c`,
    ]);
    const ranked = rank(query, rows, limit);
    const figures = await countryFigures(db, ranked.map(({ row }) => row.iso2), options.serviceCode);
    return ranked.map(({ row, match, score }) => ({ iso2: row.iso2, name: row.name, dial: row.dial, score, match, ...(figures.get(row.iso2) ?? NO_COUNTRY_FIGURES) }));
  }

  /** The empty query's order, shared by concurrent callers and kept for listingTtlMs. */
  private listing<T>(key: string, load: () => Promise<T[]>): Promise<T[]> {
    const now = (this.deps.now ?? Date.now)();
    const cached = this.listings.get(key);
    if (cached && cached.expires > now) return cached.rows as Promise<T[]>;
    const rows = load();
    this.listings.set(key, { expires: now + this.listingTtlMs, rows: rows as Promise<never[]> });
    rows.catch(() => this.listings.delete(key));
    return rows;
  }
}

/** How much of the empty-query order is cached, and how many more rows than asked are priced (to fill in for what sold out). */
const LISTING_SIZE = 250;
const LISTING_SLACK = 20;

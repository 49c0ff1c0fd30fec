/**
 * Catalog search benchmark: `npx tsx bench/search.ts`, or `runSearchBench()` from bench/run.ts.
 *
 * Builds its own database (created, migrated with applyMigrations, dropped at the end) holding
 * a production-sized catalog — 2,500 services (the 2,174 real ones plus synthetic ones) × 180
 * countries, offered by two providers (one sells everything, the other a quarter of it: about
 * 560,000 offers) — then times `searchServices` one query at a time:
 *
 *   - exact:       a service's name or alias as typed (≥ 200 queries)
 *   - misspelled:  the same with one typo (swap, drop, double or change a letter; ≥ 200 queries)
 *   - empty:       the "on sale, cheapest first" listing
 *   - countries:   a country's name with one typo, priced for a service
 *
 * and reports p50/p95/p99 plus how often the intended service came first / in the top 5.
 * The PostgreSQL engine always; Meilisearch too when MEILI_URL is set. Progress goes to stderr,
 * the figures to stdout. Not a test: nothing here asserts.
 */
import { performance } from 'node:perf_hooks';
import { CatalogService } from '../src/catalog/catalog.service';
import { referenceCountries, referenceServices } from '../src/catalog/reference-data';
import { PostgresSearchEngine, type CatalogSearchEngine } from '../src/catalog/search';
import { similarityThreshold } from '../src/catalog/search/postgres.engine';
import { createDb, type Db } from '../src/db/client';
import { applyMigrations, dropDatabase } from '../src/db/migrate';

export interface SearchBenchOptions {
  /** Services in the catalog (default 2,500; at least the 2,174 real ones are always there). */
  services?: number;
  /** Countries with offers (default 180). */
  countries?: number;
  /** Queries per timed set (default 250). */
  queries?: number;
  /** postgresql://user@host:port, without a database (default TEST_DATABASE_BASE_URL or the local server). */
  databaseBaseUrl?: string;
  /** Also bench Meilisearch (default: when MEILI_URL is set). */
  meiliUrl?: string | null;
  progress?: (message: string) => void;
}

export interface Latency {
  n: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface QuerySet extends Latency {
  /** Share of queries whose intended hit ranked first / in the first five. */
  top1: number;
  top5: number;
}

export interface EngineFigures {
  engine: string;
  indexMs: number;
  exact: QuerySet;
  misspelled: QuerySet;
  empty: Latency;
  countries: QuerySet;
}

export interface SearchBenchResult {
  catalog: { services: number; countries: number; offers: number; providers: number };
  setupMs: number;
  /** How PostgreSQL answers the candidate step (`'telegarm' <% search_text`) on this catalog, and how fast. */
  trigramPlan: string;
  engines: EngineFigures[];
}

const DEFAULTS = { services: 2_500, countries: 180, queries: 250 };
const LIMIT = 20;

/** Deterministic PRNG (mulberry32): the same catalog and queries on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'zu', 'ra', 'ven', 'to', 'bi', 'qu', 'nex', 'sa', 'dor', 'pli', 'ma', 'tri', 'gon', 'fi', 'lux', 'pe', 'ro'];
const SUFFIXES = ['', '', '', ' Pay', ' App', ' Bank', ' Chat', ' Go', ' Shop', ' Games'];

function syntheticName(next: () => number): string {
  const word = Array.from({ length: 2 + Math.floor(next() * 2) }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join('');
  return `${word[0].toUpperCase()}${word.slice(1)}${SUFFIXES[Math.floor(next() * SUFFIXES.length)]}`;
}

/** One typo, as people make them: swap two neighbours, drop, double or change a letter (never the first). */
export function misspell(text: string, next: () => number): string {
  const letters = [...text];
  const positions = letters.map((c, i) => (i > 0 && /\p{L}/u.test(c) ? i : -1)).filter((i) => i > 0);
  if (positions.length < 2) return text;
  const at = positions[Math.floor(next() * positions.length)];
  switch (Math.floor(next() * 4)) {
    case 0: {
      const other = at + 1 < letters.length && /\p{L}/u.test(letters[at + 1]) ? at + 1 : at - 1;
      if (letters[other] === letters[at]) return misspell(text, next);
      [letters[at], letters[other]] = [letters[other], letters[at]];
      break;
    }
    case 1:
      letters.splice(at, 1);
      break;
    case 2:
      letters.splice(at, 0, letters[at]);
      break;
    default: {
      const alphabet = /[а-яё]/i.test(letters[at]) ? 'абвгдежзиклмнопрстуфхцчшщыэюя' : 'abcdefghijklmnopqrstuvwxyz';
      let replacement = letters[at];
      while (replacement === letters[at]) replacement = alphabet[Math.floor(next() * alphabet.length)];
      letters[at] = replacement;
    }
  }
  return letters.join('');
}

function summarize(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n: sorted.length,
    p50Ms: round(at(50)),
    p95Ms: round(at(95)),
    p99Ms: round(at(99)),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
    meanMs: round(sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1)),
  };
}

interface Query {
  q: string;
  /** The code (or ISO) that should come back. */
  want: string;
  serviceCode?: string;
}

async function timeSet(queries: readonly Query[], run: (query: Query) => Promise<string[]>): Promise<QuerySet> {
  const samples: number[] = [];
  let top1 = 0;
  let top5 = 0;
  for (const query of queries) {
    const started = performance.now();
    const keys = await run(query);
    samples.push(performance.now() - started);
    if (keys[0] === query.want) top1 += 1;
    if (keys.slice(0, 5).includes(query.want)) top5 += 1;
  }
  return { ...summarize(samples), top1: Math.round((top1 / queries.length) * 1000) / 1000, top5: Math.round((top5 / queries.length) * 1000) / 1000 };
}

/** Creates and fills the bench database; returns the catalog counts. */
async function buildCatalog(db: Db, options: Required<Pick<SearchBenchOptions, 'services' | 'countries'>>, progress: (m: string) => void) {
  const next = random(20_261_125);
  await new CatalogService({ db }).seedReference();
  const missing = Math.max(0, options.services - referenceServices.length);
  const synthetic = Array.from({ length: missing }, (_, i) => {
    const name = syntheticName(next);
    const code = `bx${i.toString(36).padStart(3, '0')}`;
    return { code, name, aliases: [code, name.toLowerCase(), name.toLowerCase().replace(/[^a-z0-9]/g, '')] };
  });
  await db.service.createMany({ data: synthetic, skipDuplicates: true });
  await db.provider.createMany({
    data: [
      { id: 'bench-a', displayName: 'Bench A (sells everything)', protocol: 'SMS_ACTIVATE' },
      { id: 'bench-b', displayName: 'Bench B (a quarter)', protocol: 'SMS_ACTIVATE' },
    ],
  });
  const countries = referenceCountries.slice(0, options.countries).map((c) => c.iso2);
  progress(`inserting offers: ${options.services} services × ${countries.length} countries`);
  // One statement: every (service, country) from provider A, a quarter from B; prices and stock from a hash.
  const offers = await db.$executeRaw`
    INSERT INTO offers (provider_id, service_code, country_iso, upstream_service, upstream_country, cost_micros, sell_micros, stock)
    SELECT p.id, s.code, c.iso2, s.code, c.iso2, x.cost, ((x.cost * 125 / 100 + 9999) / 10000) * 10000, x.stock
    FROM services s
    CROSS JOIN (SELECT iso2 FROM countries WHERE iso2 = ANY (${countries}::text[])) c
    CROSS JOIN (VALUES ('bench-a'), ('bench-b')) AS p(id)
    CROSS JOIN LATERAL (
      SELECT 10000 + (abs(hashtext(p.id || s.code || c.iso2)::bigint) % 990000) AS cost,
        CASE WHEN abs(hashtext('stock' || p.id || s.code || c.iso2)) % 100 < 8 THEN 0
             ELSE abs(hashtext('count' || p.id || s.code || c.iso2)) % 500 END AS stock
    ) x
    WHERE p.id = 'bench-a' OR abs(hashtext('b' || s.code || c.iso2)) % 4 = 0`;
  await db.$executeRawUnsafe('ANALYZE');
  return { services: await db.service.count(), countries: countries.length, offers, providers: 2 };
}

function serviceQueries(count: number, seed: number, typo: boolean): Query[] {
  const next = random(seed);
  const pool = referenceServices.filter((s) => (typo ? s.name.replace(/[^\p{L}]/gu, '').length >= 5 : true));
  const picked = new Set<number>();
  while (picked.size < Math.min(count, pool.length)) picked.add(Math.floor(next() * pool.length));
  return [...picked].map((i) => {
    const service = pool[i];
    // As typed: mostly the display name, sometimes an alias (other spellings, Cyrillic, slugs);
    // with a typo, never the code: nobody mistypes `tg`, and one edit of a code is another code.
    const aliases = service.aliases.filter((alias) => alias !== service.code && (!typo || alias.replace(/[^\p{L}]/gu, '').length >= 5));
    const text = next() < 0.7 || aliases.length === 0 ? service.name : aliases[Math.floor(next() * aliases.length)];
    return { q: typo ? misspell(text, next) : text, want: service.code };
  });
}

function countryQueries(count: number, seed: number, countries: number): Query[] {
  const next = random(seed);
  const pool = referenceCountries.slice(0, countries);
  return Array.from({ length: count }, () => {
    const country = pool[Math.floor(next() * pool.length)];
    const service = referenceServices[Math.floor(next() * referenceServices.length)];
    return { q: misspell(country.name, next), want: country.iso2, serviceCode: service.code };
  });
}

async function benchEngine(engine: CatalogSearchEngine, options: Required<Pick<SearchBenchOptions, 'queries' | 'countries'>>, progress: (m: string) => void): Promise<EngineFigures> {
  progress(`${engine.name}: indexing`);
  const started = performance.now();
  await engine.indexCatalog();
  const indexMs = Math.round(performance.now() - started);
  const services = async (query: Query) => (await engine.searchServices(query.q, { limit: LIMIT })).map((hit) => hit.code);
  // Warm-up: connection pool, plans, caches.
  for (const query of serviceQueries(30, 1, false)) await services(query);

  progress(`${engine.name}: ${options.queries} exact queries`);
  const exact = await timeSet(serviceQueries(options.queries, 2, false), services);
  progress(`${engine.name}: ${options.queries} misspelled queries`);
  const misspelled = await timeSet(serviceQueries(options.queries, 3, true), services);
  progress(`${engine.name}: empty query`);
  const emptySamples: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const t0 = performance.now();
    await engine.searchServices('', { limit: LIMIT });
    emptySamples.push(performance.now() - t0);
  }
  progress(`${engine.name}: ${options.queries} country queries`);
  const countries = await timeSet(countryQueries(options.queries, 4, options.countries), async (query) =>
    (await engine.searchCountries(query.q, { limit: LIMIT, serviceCode: query.serviceCode })).map((hit) => hit.iso2),
  );
  return { engine: engine.name, indexMs, exact, misspelled, empty: summarize(emptySamples), countries };
}

/** Runs the whole benchmark in its own database and returns the figures (bench/run.ts prints them with formatSearchBench). */
export async function runSearchBench(options: SearchBenchOptions = {}): Promise<SearchBenchResult> {
  const progress = options.progress ?? ((message: string) => process.stderr.write(`[search bench] ${message}\n`));
  const settings = {
    services: options.services ?? DEFAULTS.services,
    countries: options.countries ?? DEFAULTS.countries,
    queries: options.queries ?? DEFAULTS.queries,
  };
  const base = (options.databaseBaseUrl ?? process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432').replace(/\/$/, '');
  const databaseUrl = `${base}/simgate_bench_search_${Date.now()}_${process.pid}`;
  const meiliUrl = options.meiliUrl === undefined ? process.env.MEILI_URL : options.meiliUrl;

  progress(`creating ${databaseUrl.slice(databaseUrl.lastIndexOf('/') + 1)}`);
  const setupStarted = performance.now();
  await applyMigrations(databaseUrl);
  const db = createDb(databaseUrl, { max: 4 });
  const dropIndexes: (() => Promise<void>)[] = [];
  try {
    const catalog = await buildCatalog(db, settings, progress);
    const setupMs = Math.round(performance.now() - setupStarted);

    const engines: EngineFigures[] = [];
    engines.push(await benchEngine(new PostgresSearchEngine({ db }), settings, progress));
    // The candidate step as the engine runs it (same settings for its transaction).
    const plan = await db.$transaction([
      db.$queryRaw`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(similarityThreshold('telegarm'))}, true), set_config('enable_seqscan', 'off', true)`,
      db.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ANALYZE SELECT code FROM services WHERE 'telegarm' <% search_text`),
    ]);
    const lines = plan[1].map((row) => row['QUERY PLAN'].trim());
    const scan = lines.find((line) => /Index Scan|Seq Scan/.test(line))?.replace(/\s+\(cost=.*$/, '') ?? 'unknown';
    const trigramPlan = `${scan}; ${lines.find((line) => line.startsWith('Execution Time')) ?? ''}`;

    if (meiliUrl) {
      const { MeilisearchSearchEngine } = await import('../src/catalog/search/meilisearch.engine.js');
      const meili = new MeilisearchSearchEngine({ db }, { url: meiliUrl, apiKey: process.env.MEILI_API_KEY, indexPrefix: `bench_${Date.now()}_` });
      dropIndexes.push(() => meili.dropIndexes());
      engines.push(await benchEngine(meili, settings, progress));
    }
    return { catalog, setupMs, trigramPlan, engines };
  } finally {
    for (const drop of dropIndexes) await drop().catch(() => undefined);
    await db.$disconnect();
    if (process.env.KEEP_BENCH_DB !== '1') await dropDatabase(databaseUrl);
  }
}

/** The figures as a plain-text table. */
export function formatSearchBench(result: SearchBenchResult): string {
  const { catalog } = result;
  const lines = [
    `Catalog search: ${catalog.services.toLocaleString('en')} services × ${catalog.countries} countries, ${catalog.offers.toLocaleString('en')} offers from ${catalog.providers} providers (built in ${(result.setupMs / 1000).toFixed(1)} s)`,
    `pg_trgm candidates ('telegarm' <% search_text): ${result.trigramPlan}`,
    '',
  ];
  const header = ['engine', 'queries', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'top-1', 'top-5'];
  const rows: string[][] = [];
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  for (const e of result.engines) {
    const row = (name: string, s: Latency & Partial<QuerySet>) => [e.engine, name, String(s.n), s.p50Ms.toFixed(2), s.p95Ms.toFixed(2), s.p99Ms.toFixed(2), s.maxMs.toFixed(2), s.top1 === undefined ? '–' : pct(s.top1), s.top5 === undefined ? '–' : pct(s.top5)];
    rows.push(row('services, exact', e.exact), row('services, one typo', e.misspelled), row('services, empty q', e.empty), row('countries, one typo', e.countries));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt), '');
  lines.push(...result.engines.map((e) => `${e.engine}: indexCatalog() ${e.indexMs} ms`));
  return lines.join('\n');
}

if (require.main === module) {
  runSearchBench()
    .then((result) => {
      process.stdout.write(`${formatSearchBench(result)}\n`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}

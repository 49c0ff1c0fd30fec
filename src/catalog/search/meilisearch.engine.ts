import { Meilisearch, type Index, type Settings, type Task } from 'meilisearch';
import type { Db } from '../../db/client';
import { NO_COUNTRY_FIGURES, NO_SERVICE_FIGURES, byTierThenOnSale, countriesOnSale, countryFigures, serviceFigures } from './figures';
import {
  COUNTRY_INDEX_SETTINGS,
  SERVICE_INDEX_SETTINGS,
  countryDocument,
  indexNames,
  serviceDocument,
  type CountryDocument,
  type IndexFigures,
  type MeiliIndexNames,
  type ServiceDocument,
} from './meilisearch.documents';
import { clampLimit, normalizeQuery, relevantOnly, type CatalogSearchEngine, type CountryHit, type CountrySearchOptions, type SearchOptions, type ServiceHit } from './search-engine';
import { classify, referenceCountryExtras, referenceServiceExtras } from './search-text';

export interface MeilisearchEngineOptions {
  url: string;
  apiKey?: string;
  /** Index uid prefix (default `simgate_`): `<prefix>services`, `<prefix>countries`. */
  indexPrefix?: string;
  /** Per-request timeout (default 5 s) and how long indexCatalog() waits for each task (default 120 s). */
  requestTimeoutMs?: number;
  taskTimeoutMs?: number;
}

/** How many hits to take from Meilisearch before the shared exact/prefix/on-sale tiering. */
const candidatesFor = (limit: number) => Math.min(200, Math.max(limit * 3, 30));
const ALL_COUNTRIES = 300;

/**
 * Meilisearch, when SEARCH_ENGINE=meilisearch. Two indexes (services, countries), refreshed by
 * indexCatalog() from PostgreSQL after each catalog sync; each run stamps its documents with a
 * generation and deletes older ones, so a service that left the catalog leaves the index.
 * Meilisearch ranks (typos, words, on sale, price); the engine then applies the tiers every
 * engine promises (exact, prefix, fuzzy; on sale first within each) and reads live prices and
 * stock from PostgreSQL, as the PostgreSQL engine does.
 */
export class MeilisearchSearchEngine implements CatalogSearchEngine {
  readonly name = 'meilisearch' as const;
  readonly indexes: MeiliIndexNames;
  private readonly client: Meilisearch;
  private readonly taskTimeoutMs: number;
  private settingsApplied = false;

  constructor(
    private readonly deps: { db: Db; client?: Meilisearch },
    options: MeilisearchEngineOptions,
  ) {
    this.client = deps.client ?? new Meilisearch({ host: options.url, apiKey: options.apiKey, timeout: options.requestTimeoutMs ?? 5_000 });
    this.indexes = indexNames(options.indexPrefix ?? 'simgate_');
    this.taskTimeoutMs = options.taskTimeoutMs ?? 120_000;
  }

  private get services(): Index<ServiceDocument> {
    return this.client.index<ServiceDocument>(this.indexes.services);
  }

  private get countries(): Index<CountryDocument> {
    return this.client.index<CountryDocument>(this.indexes.countries);
  }

  async indexCatalog(): Promise<void> {
    const { db } = this.deps;
    if (!this.settingsApplied) {
      await this.ensureIndex(this.indexes.services, SERVICE_INDEX_SETTINGS);
      await this.ensureIndex(this.indexes.countries, COUNTRY_INDEX_SETTINGS);
      this.settingsApplied = true;
    }
    const generation = Date.now();
    const serviceExtras = referenceServiceExtras();
    const countryExtras = referenceCountryExtras();
    const [services, countries, byService, byCountry] = await Promise.all([
      db.service.findMany({ select: { code: true, name: true, aliases: true } }),
      db.country.findMany({ select: { iso2: true, name: true, dial: true } }),
      this.figuresBy('service_code'),
      this.figuresBy('country_iso'),
    ]);
    const serviceDocs = services.map((s) => serviceDocument({ ...s, ...serviceExtras.get(s.code) }, byService.get(s.code), generation));
    const countryDocs = countries.map((c) => countryDocument({ ...c, ...countryExtras.get(c.iso2) }, byCountry.get(c.iso2), generation));
    await this.wait(this.services.addDocuments(serviceDocs, { primaryKey: 'id' }), 'add service documents');
    await this.wait(this.countries.addDocuments(countryDocs, { primaryKey: 'id' }), 'add country documents');
    await this.wait(this.services.deleteDocuments({ filter: `generation < ${generation}` }), 'delete old service documents');
    await this.wait(this.countries.deleteDocuments({ filter: `generation < ${generation}` }), 'delete old country documents');
  }

  async searchServices(raw: string, options: SearchOptions): Promise<ServiceHit[]> {
    const query = normalizeQuery(raw);
    const limit = clampLimit(options.limit);
    const found = await this.services.search(query, {
      limit: query === '' ? limit : candidatesFor(limit),
      ...(query === '' ? { filter: 'onSale = 1' } : {}),
      showRankingScore: true,
      attributesToRetrieve: ['code', 'name', 'terms'],
    });
    const figures = await serviceFigures(this.deps.db, found.hits.map((hit) => hit.code));
    const hits = found.hits.map((hit) => ({
      code: hit.code,
      name: hit.name,
      score: query === '' ? 0 : round(hit._rankingScore ?? 0),
      ...classify(query, hit.terms ?? []),
      ...(figures.get(hit.code) ?? NO_SERVICE_FIGURES),
    }));
    return (query === '' ? hits.filter((hit) => hit.bestPriceMicros !== null) : byTierThenOnSale(relevantOnly(hits))).slice(0, limit).map(withoutDistance);
  }

  async searchCountries(raw: string, options: CountrySearchOptions): Promise<CountryHit[]> {
    const { db } = this.deps;
    const query = normalizeQuery(raw);
    const limit = clampLimit(options.limit);
    if (query === '') {
      // On sale *for the service* is not something the country documents know: PostgreSQL answers.
      const rows = await countriesOnSale(db, limit, options.serviceCode);
      const figures = await countryFigures(db, rows.map((row) => row.iso2), options.serviceCode);
      return rows.map((row) => ({ ...row, score: 0, match: 'none' as const, ...(figures.get(row.iso2) ?? NO_COUNTRY_FIGURES) }));
    }
    // Few enough to take every match, so the service's own on-sale tiering is exact.
    const found = await this.countries.search(query, { limit: ALL_COUNTRIES, showRankingScore: true, attributesToRetrieve: ['iso2', 'name', 'dial', 'terms'] });
    const figures = await countryFigures(db, found.hits.map((hit) => hit.iso2), options.serviceCode);
    const hits = found.hits.map((hit) => ({
      iso2: hit.iso2,
      name: hit.name,
      dial: hit.dial,
      score: round(hit._rankingScore ?? 0),
      ...classify(query, hit.terms ?? []),
      ...(figures.get(hit.iso2) ?? NO_COUNTRY_FIGURES),
    }));
    return byTierThenOnSale(relevantOnly(hits)).slice(0, limit).map(withoutDistance);
  }

  /** Deletes both indexes (tests and benches). */
  async dropIndexes(): Promise<void> {
    await this.client.deleteIndexIfExists(this.indexes.services);
    await this.client.deleteIndexIfExists(this.indexes.countries);
    this.settingsApplied = false;
  }

  private async ensureIndex(uid: string, settings: Settings): Promise<void> {
    const created = await this.client.createIndex(uid, { primaryKey: 'id' }).waitTask({ timeout: this.taskTimeoutMs });
    if (created.status === 'failed' && created.error?.code !== 'index_already_exists') throw taskError(created, `create index ${uid}`);
    await this.wait(this.client.index(uid).updateSettings(settings), `settings of ${uid}`);
  }

  private async wait(enqueued: ReturnType<Index['addDocuments']>, what: string): Promise<Task> {
    const task = await enqueued.waitTask({ timeout: this.taskTimeoutMs });
    if (task.status !== 'succeeded') throw taskError(task, what);
    return task;
  }

  /** Best price and stock per service (or per country) over every offer in stock from an enabled provider. */
  private async figuresBy(column: 'service_code' | 'country_iso'): Promise<Map<string, IndexFigures>> {
    const rows =
      column === 'service_code'
        ? await this.deps.db.$queryRaw<{ key: string; best: bigint; stock: bigint }[]>`
            SELECT o.service_code AS key, MIN(o.sell_micros) AS best, SUM(o.stock)::bigint AS stock
            FROM offers o JOIN providers p ON p.id = o.provider_id AND p.enabled
            WHERE o.stock > 0 GROUP BY o.service_code`
        : await this.deps.db.$queryRaw<{ key: string; best: bigint; stock: bigint }[]>`
            SELECT o.country_iso AS key, MIN(o.sell_micros) AS best, SUM(o.stock)::bigint AS stock
            FROM offers o JOIN providers p ON p.id = o.provider_id AND p.enabled
            WHERE o.stock > 0 GROUP BY o.country_iso`;
    return new Map(rows.map((row) => [row.key, { bestPriceMicros: row.best, stock: Number(row.stock) }]));
  }
}

function withoutDistance<T extends { distance: number }>({ distance: _distance, ...hit }: T): Omit<T, 'distance'> {
  return hit;
}

function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}

function taskError(task: Task, what: string): Error {
  return new Error(`Meilisearch ${what}: task ${task.uid} ${task.status}${task.error ? `: ${task.error.code}: ${task.error.message}` : ''}`);
}

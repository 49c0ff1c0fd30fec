import { LRUCache } from 'lru-cache';
import type { ProviderConfig } from '../config/providers.config';
import type { Db } from '../db/client';
import { Prisma } from '../db/client';
import { AppError } from '../lib/errors';
import { convertMicros, sellPrice } from '../lib/money';
import { routeKey, type ProviderHealth, type RouteDelivery } from '../providers/health';
import { routeCandidates } from '../providers/routing';
import type { ProviderAdapter } from '../providers/types';
import { countryIsoByUpstreamId, referenceCountries, referenceServices, serviceCodeByUpstreamCode } from './reference-data';
import { PostgresSearchEngine } from './search/postgres.engine';
import { serviceFigures } from './search/figures';
import { clampLimit, hasRealMatch, relevantOnly, type CatalogSearchEngine, type CountryHit, type CountryPrice, type ServiceHit } from './search/search-engine';
import type { PurchaseCandidate } from '../../workflows/contracts';

/**
 * One provider able to sell a service in a country, as the activation workflow tries them.
 * Declared with the workflow contracts: quoted candidates travel in a purchase's workflow input.
 */
export type { PurchaseCandidate };

export interface Quote {
  /** What to hold: the customer's ceiling, or the best price when they gave none. */
  holdMicros: bigint;
  candidates: PurchaseCandidate[];
}

export interface ServiceSummary {
  code: string;
  name: string;
  bestPriceMicros: string | null;
  stock: number;
}

export interface OfferSummary {
  serviceCode: string;
  serviceName: string;
  countryIso: string;
  countryName: string;
  priceMicros: string;
  stock: number;
}

/**
 * How numbers of one service in one country fared over the last `windowHours` (all providers
 * together): bought, and how many of those got their SMS. Shown next to the offer with its
 * sample size; routing uses the same counts (smoothed by a prior) to weigh providers.
 */
export interface Delivery extends RouteDelivery {
  windowHours: number;
}

export type WithDelivery<T> = T & { delivery: Delivery | null };

/**
 * Services people come for, in the order a newcomer looks for them: "Popular services" shows
 * what sold most recently first, then these, so an empty shop still opens on Telegram and
 * WhatsApp rather than on whatever is cheapest.
 */
export const WELL_KNOWN_SERVICES: readonly string[] = ['tg', 'wa', 'go', 'ig', 'fb', 'ds', 'tw', 'lf', 'dr', 'mm', 'am', 'vi', 'oi', 'ub', 'wb', 'nf', 'ts'];

/** How far back "what sold most" looks, how many it keeps, and for how long. */
const POPULAR_WINDOW_DAYS = 30;
const MAX_POPULAR = 100;
const POPULAR_TTL_MS = 60_000;
/**
 * Services and countries are reference data: loaded by seedReference and the offer sync, never
 * edited in place. Every purchase names one of each, so a found one is kept this long (an
 * unknown code is asked again each time: it may be loaded any moment).
 */
const REFERENCE_TTL_MS = 60_000;

export type WithTopDelivery<T extends { topCountries: CountryPrice[] }> = Omit<T, 'topCountries'> & { topCountries: WithDelivery<CountryPrice>[] };

/** What is for sale for one service in one country: the best price, the total stock, and the stock at each price. */
export interface PriceCell {
  serviceCode: string;
  countryIso: string;
  priceMicros: bigint;
  stock: number;
  /** Cheapest first: every price a buyer can get a number at, with the numbers at that price (a higher ceiling reaches more). */
  levels: { priceMicros: bigint; stock: number }[];
  /** The enabled providers selling it (for their delivery rates). */
  providerIds: string[];
}

export class CatalogService {
  /** Catalog search (src/catalog/search): the configured engine, or the PostgreSQL one by default. */
  readonly search: CatalogSearchEngine;
  private readonly popular: LRUCache<'sold', string[]>;
  private readonly services: LRUCache<string, Prisma.ServiceGetPayload<object>>;
  private readonly countries: LRUCache<string, Prisma.CountryGetPayload<object>>;

  constructor(
    private readonly deps: {
      db: Db;
      search?: CatalogSearchEngine;
      /** Provider health: routing skips open breakers and weighs price by delivery rate. */
      health?: Pick<ProviderHealth, 'routeHealth'> & Partial<Pick<ProviderHealth, 'routeDelivery' | 'settings'>>;
    },
  ) {
    this.search = deps.search ?? new PostgresSearchEngine({ db: deps.db });
    // fetch() shares one read among concurrent askers; undefined (not found) and failures are not kept.
    this.popular = new LRUCache({
      max: 1,
      ttl: POPULAR_TTL_MS,
      fetchMethod: async () => {
        const rows = await deps.db.$queryRaw<{ service_code: string }[]>`
          SELECT service_code FROM activations
          WHERE created_at > now() - make_interval(days => ${POPULAR_WINDOW_DAYS}) AND status <> 'FAILED'
          GROUP BY service_code ORDER BY count(*) DESC, service_code LIMIT ${MAX_POPULAR}`;
        return rows.map((r) => r.service_code);
      },
    });
    this.services = new LRUCache({
      max: 10_000,
      ttl: REFERENCE_TTL_MS,
      fetchMethod: async (code) => (await deps.db.service.findUnique({ where: { code } })) ?? undefined,
    });
    this.countries = new LRUCache({
      max: 1_000,
      ttl: REFERENCE_TTL_MS,
      fetchMethod: async (iso2) => (await deps.db.country.findUnique({ where: { iso2 } })) ?? undefined,
    });
  }

  /** Loads the public service and country tables; idempotent. */
  async seedReference(): Promise<{ services: number; countries: number }> {
    const { db } = this.deps;
    const countries = await db.country.createMany({
      data: referenceCountries.map((c) => ({ iso2: c.iso2, name: c.name, dial: c.dial })),
      skipDuplicates: true,
    });
    const services = await db.service.createMany({
      data: referenceServices.map((s) => ({ code: s.code, name: s.name, aliases: s.aliases })),
      skipDuplicates: true,
    });
    return { services: services.count, countries: countries.count };
  }

  /**
   * Pulls one provider's prices and stock and upserts its offers: cost converted to USD micros
   * once, here, and marked up to the sell price. Offers the provider no longer lists go out of stock.
   */
  async syncProviderOffers(config: ProviderConfig, adapter: ProviderAdapter): Promise<{ upserted: number; skipped: number }> {
    const { db } = this.deps;
    const prices = await adapter.getPrices();
    const countryIso = countryIsoByUpstreamId(config.countryIds);
    const serviceCode = serviceCodeByUpstreamCode(config.countryIds);
    const markupFor = await this.markupResolver(config);
    const rows: Prisma.Sql[] = [];
    let skipped = 0;
    for (const price of prices) {
      const iso = countryIso.get(price.country);
      const code = serviceCode.get(price.service);
      if (!iso || !code) {
        skipped += 1;
        continue;
      }
      const cost = convertMicros(price.costMicros, config.usdRate);
      rows.push(Prisma.sql`(${config.id}, ${code}, ${iso}, ${price.service}, ${price.country}, ${cost}, ${sellPrice(cost, markupFor(code, iso))}, ${price.stock}, now())`);
    }
    await db.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE offers SET stock = 0, updated_at = now() WHERE provider_id = ${config.id}`;
      for (let i = 0; i < rows.length; i += 1000) {
        await tx.$executeRaw`
          INSERT INTO offers (provider_id, service_code, country_iso, upstream_service, upstream_country, cost_micros, sell_micros, stock, updated_at)
          VALUES ${Prisma.join(rows.slice(i, i + 1000))}
          ON CONFLICT (provider_id, service_code, country_iso) DO UPDATE SET
            upstream_service = EXCLUDED.upstream_service, upstream_country = EXCLUDED.upstream_country,
            cost_micros = EXCLUDED.cost_micros, sell_micros = EXCLUDED.sell_micros, stock = EXCLUDED.stock, updated_at = now()`;
      }
    });
    return { upserted: rows.length, skipped };
  }

  /**
   * Markup for one offer: the most specific override wins — service and country, then service,
   * then country — else the provider's own (DESIGN.md "Money").
   */
  private async markupResolver(config: ProviderConfig): Promise<(serviceCode: string, countryIso: string) => number> {
    const overrides = await this.deps.db.markupOverride.findMany({ where: { providerId: config.id } });
    const byKey = new Map(overrides.map((o) => [`${o.serviceCode}|${o.countryIso}`, o.markupBps]));
    return (service, country) =>
      byKey.get(`${service}|${country}`) ?? byKey.get(`${service}|*`) ?? byKey.get(`*|${country}`) ?? config.markupBps;
  }

  async requireService(code: string) {
    const service = await this.services.fetch(code);
    if (!service) throw new AppError('UNKNOWN_SERVICE', `No service with code "${code}".`);
    return service;
  }

  async requireCountry(iso2: string) {
    const country = await this.countries.fetch(iso2.toUpperCase());
    if (!country) throw new AppError('UNKNOWN_COUNTRY', `No country with code "${iso2}".`);
    return country;
  }

  /**
   * Offers in stock from enabled providers, cheapest first, within the customer's ceiling.
   * Refuses with NO_OFFERS when nothing is for sale and MAX_PRICE_TOO_LOW when everything costs more.
   */
  async quote(input: { serviceCode: string; countryIso: string; maxPriceMicros: bigint | null }): Promise<Quote> {
    const offers = await this.deps.db.offer.findMany({
      where: {
        serviceCode: input.serviceCode,
        countryIso: input.countryIso,
        stock: { gt: 0 },
        // Providers we can actually buy from: enabled, with credentials.
        provider: { enabled: true, baseUrl: { not: '' }, apiKey: { not: '' } },
      },
      orderBy: [{ sellMicros: 'asc' }, { providerId: 'asc' }],
    });
    if (offers.length === 0) throw new AppError('NO_OFFERS', 'No numbers are available for this service and country right now.');
    const candidates: PurchaseCandidate[] = offers.map((offer) => ({
      offerId: offer.id.toString(),
      providerId: offer.providerId,
      upstreamService: offer.upstreamService,
      upstreamCountry: offer.upstreamCountry,
      costMicros: offer.costMicros.toString(),
      sellMicros: offer.sellMicros.toString(),
    }));
    const health = this.deps.health ? await this.deps.health.routeHealth(candidates.map((c) => c.providerId), input.serviceCode, input.countryIso) : new Map();
    const reachable = routeCandidates(candidates, health).ranked;
    if (reachable.length === 0) {
      throw new AppError('PROVIDERS_UNAVAILABLE', 'The providers for this service and country are failing right now; please retry in a minute.');
    }
    // Without a ceiling the customer pays at most the cheapest price we can actually deliver.
    const cheapest = reachable.reduce((min, c) => (BigInt(c.sellMicros) < min ? BigInt(c.sellMicros) : min), BigInt(reachable[0].sellMicros));
    const holdMicros = input.maxPriceMicros ?? cheapest;
    // Ranking is independent of the ceiling: keep the order, drop what costs more than the hold.
    const ranked = reachable.filter((c) => BigInt(c.sellMicros) <= holdMicros);
    if (ranked.length === 0) {
      throw new AppError('MAX_PRICE_TOO_LOW', 'Your maximum price is below the cheapest offer.', { minPriceMicros: cheapest.toString() });
    }
    return { holdMicros, candidates: ranked };
  }

  /** Services matching a search text (typos, aliases, other languages), with live prices; see search-engine.ts. */
  async searchServices(query: string, limit: number): Promise<ServiceHit[]> {
    return this.search.searchServices(query, { limit });
  }

  /** One box for services and countries; each service's top countries carry their delivery record. */
  async searchAll(query: string, limit: number): Promise<{ services: WithTopDelivery<ServiceHit>[]; countries: CountryHit[] }> {
    const [found, countriesFound] = await Promise.all([this.search.searchServices(query, { limit }), this.search.searchCountries(query, { limit })]);
    // One box: a real match in one list makes the other list's look-alikes noise too ("telgram" lists no countries).
    const services = relevantOnly(found, hasRealMatch(countriesFound));
    const countries = relevantOnly(countriesFound, hasRealMatch(found));
    return { services: await this.withTopDelivery(services), countries };
  }

  /**
   * "Popular services": what customers bought most in the last POPULAR_WINDOW_DAYS, then the
   * well-known services, then what is on sale (the engine's empty query) — only what is in stock.
   */
  async popularServices(limitInput: number): Promise<WithTopDelivery<ServiceHit>[]> {
    const limit = clampLimit(limitInput);
    const sold = await this.mostSold();
    const wanted = [...new Set([...sold.slice(0, limit), ...WELL_KNOWN_SERVICES])];
    const [figures, names, onSale] = await Promise.all([
      serviceFigures(this.deps.db, wanted),
      this.deps.db.service.findMany({ where: { code: { in: wanted } }, select: { code: true, name: true } }),
      this.search.searchServices('', { limit }),
    ]);
    const nameOf = new Map(names.map((n) => [n.code, n.name]));
    const hits: ServiceHit[] = [];
    for (const code of wanted) {
      const f = figures.get(code);
      const name = nameOf.get(code);
      if (f && name && f.stock > 0) hits.push({ code, name, score: 0, match: 'none', ...f });
    }
    const seen = new Set(hits.map((h) => h.code));
    for (const hit of onSale) if (!seen.has(hit.code)) hits.push(hit);
    return this.withTopDelivery(hits.slice(0, limit));
  }

  /**
   * Services by purchases in the window, most first. Every empty search box asks, and the count
   * reads a month of activations, so the order is kept for POPULAR_TTL_MS (what is shown stays
   * live: figures and stock are read per request).
   */
  private async mostSold(): Promise<string[]> {
    return (await this.popular.fetch('sold')) ?? [];
  }

  /** Delivery records of many routes at once; null for every route when health is not wired or Redis fails. */
  async deliveryFor(routes: readonly { serviceCode: string; countryIso: string }[]): Promise<Map<string, Delivery>> {
    const health = this.deps.health;
    if (!health?.routeDelivery || routes.length === 0) return new Map();
    const providers = await this.deps.db.provider.findMany({ where: { enabled: true }, select: { id: true } });
    const windowHours = health.settings?.routeWindowHours ?? 24;
    // A shop without statistics still sells: the figure is a nicety, never a reason to fail a page.
    const counts = await health.routeDelivery(providers.map((p) => p.id), routes).catch(() => new Map<string, RouteDelivery>());
    return new Map([...counts].map(([key, c]) => [key, { ...c, windowHours }]));
  }

  private async withTopDelivery(hits: ServiceHit[]): Promise<WithTopDelivery<ServiceHit>[]> {
    const delivery = await this.deliveryFor(hits.flatMap((h) => h.topCountries.map((c) => ({ serviceCode: h.code, countryIso: c.iso2 }))));
    return hits.map((h) => ({ ...h, topCountries: h.topCountries.map((c) => ({ ...c, delivery: delivery.get(routeKey(h.code, c.iso2)) ?? null })) }));
  }

  /** offersForService with each offer's delivery record. */
  async offersWithDelivery(serviceCode: string, countryIso?: string): Promise<WithDelivery<OfferSummary>[]> {
    const offers = await this.offersForService(serviceCode, countryIso);
    const delivery = await this.deliveryFor(offers);
    return offers.map((o) => ({ ...o, delivery: delivery.get(routeKey(o.serviceCode, o.countryIso)) ?? null }));
  }

  /**
   * Every service × country on sale from enabled providers (optionally one service and/or one
   * country), cheapest price first within a cell. Prices are per distinct sell price, not per
   * provider, so the table stays as small as what a buyer can choose between.
   */
  async priceTable(filter: { serviceCode?: string; countryIso?: string } = {}): Promise<PriceCell[]> {
    const service = filter.serviceCode ?? null;
    const country = filter.countryIso ?? null;
    const rows = await this.deps.db.$queryRaw<{ service_code: string; country_iso: string; sell_micros: bigint; stock: bigint; providers: string[] }[]>`
      SELECT o.service_code, o.country_iso, o.sell_micros, SUM(o.stock) AS stock, array_agg(o.provider_id) AS providers
      FROM offers o
      JOIN providers p ON p.id = o.provider_id AND p.enabled AND p.base_url <> '' AND p.api_key <> ''
      WHERE o.stock > 0 AND (${service}::text IS NULL OR o.service_code = ${service}) AND (${country}::text IS NULL OR o.country_iso = ${country})
      GROUP BY o.service_code, o.country_iso, o.sell_micros
      ORDER BY o.service_code, o.country_iso, o.sell_micros`;
    const cells = new Map<string, PriceCell>();
    for (const row of rows) {
      const key = `${row.service_code}|${row.country_iso}`;
      let cell = cells.get(key);
      if (!cell) {
        cell = { serviceCode: row.service_code, countryIso: row.country_iso, priceMicros: row.sell_micros, stock: 0, levels: [], providerIds: [] };
        cells.set(key, cell);
      }
      const stock = Number(row.stock);
      cell.stock += stock;
      cell.levels.push({ priceMicros: row.sell_micros, stock });
      for (const id of row.providers) if (!cell.providerIds.includes(id)) cell.providerIds.push(id);
    }
    return [...cells.values()];
  }

  /** The countries where a service is sold, with the best price and total stock, cheapest first. */
  async offersForService(serviceCode: string, countryIso?: string): Promise<OfferSummary[]> {
    const rows = await this.deps.db.$queryRaw<{ service_code: string; service_name: string; country_iso: string; country_name: string; best: bigint; stock: bigint }[]>`
      SELECT o.service_code, s.name AS service_name, o.country_iso, c.name AS country_name, MIN(o.sell_micros) AS best, SUM(o.stock) AS stock
      FROM offers o
      JOIN providers p ON p.id = o.provider_id AND p.enabled
      JOIN services s ON s.code = o.service_code
      JOIN countries c ON c.iso2 = o.country_iso
      WHERE o.service_code = ${serviceCode} AND o.stock > 0 AND (${countryIso ?? null}::text IS NULL OR o.country_iso = ${countryIso ?? null})
        AND (p.base_url <> '' AND p.api_key <> '')
      GROUP BY o.service_code, s.name, o.country_iso, c.name
      ORDER BY best, c.name`;
    return rows.map((row) => ({
      serviceCode: row.service_code,
      serviceName: row.service_name,
      countryIso: row.country_iso,
      countryName: row.country_name,
      priceMicros: row.best.toString(),
      stock: Number(row.stock),
    }));
  }
}

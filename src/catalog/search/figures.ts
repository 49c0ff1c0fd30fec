import type { Db } from '../../db/client';
import { MATCH_RANK, TOP_COUNTRIES, type CountryPrice, type MatchKind } from './search-engine';

/**
 * Live prices and stock from `offers`, shared by both engines: whatever ranked the hits, the
 * figures shown come from PostgreSQL at query time. Only offers in stock from enabled providers
 * count; the best price of a service in a country is the cheapest provider's sell price.
 */

export interface ServiceFigures {
  bestPriceMicros: string | null;
  stock: number;
  topCountries: CountryPrice[];
}

export interface CountryFigures {
  bestPriceMicros: string | null;
  stock: number;
}

export const NO_SERVICE_FIGURES: ServiceFigures = Object.freeze({ bestPriceMicros: null, stock: 0, topCountries: [] }) as ServiceFigures;
export const NO_COUNTRY_FIGURES: CountryFigures = Object.freeze({ bestPriceMicros: null, stock: 0 });

/** Best price, total stock and the TOP_COUNTRIES cheapest countries of each service, in one query. */
export async function serviceFigures(db: Db, codes: readonly string[]): Promise<Map<string, ServiceFigures>> {
  const result = new Map<string, ServiceFigures>();
  if (codes.length === 0) return result;
  // Per service (ordinality, a number, keeps the window sort off text keys): each country's best
  // offer, then the service's totals and its cheapest countries.
  const rows = await db.$queryRaw<
    { service_code: string; service_best: bigint; service_stock: bigint; country_iso: string; country_name: string; best: bigint; stock: bigint }[]
  >`
    SELECT r.service_code, r.service_best, r.service_stock, r.country_iso, c.name AS country_name, r.best, r.stock
    FROM (
      SELECT q.code AS service_code, q.ord, g.country_iso, g.best, g.stock,
        MIN(g.best) OVER w AS service_best,
        (SUM(g.stock) OVER w)::bigint AS service_stock,
        row_number() OVER (PARTITION BY q.ord ORDER BY g.best, g.stock DESC, g.country_iso) AS rn
      FROM unnest(${codes as string[]}::text[]) WITH ORDINALITY AS q(code, ord)
      CROSS JOIN LATERAL (
        SELECT o.country_iso, MIN(o.sell_micros) AS best, SUM(o.stock)::bigint AS stock
        FROM offers o
        JOIN providers p ON p.id = o.provider_id AND p.enabled
        WHERE o.service_code = q.code AND o.stock > 0
        GROUP BY o.country_iso
      ) g
      WINDOW w AS (PARTITION BY q.ord)
    ) r
    JOIN countries c ON c.iso2 = r.country_iso
    WHERE r.rn <= ${TOP_COUNTRIES}
    ORDER BY r.ord, r.rn`;
  for (const row of rows) {
    let figures = result.get(row.service_code);
    if (!figures) {
      figures = { bestPriceMicros: row.service_best.toString(), stock: Number(row.service_stock), topCountries: [] };
      result.set(row.service_code, figures);
    }
    figures.topCountries.push({ iso2: row.country_iso, name: row.country_name, priceMicros: row.best.toString(), stock: Number(row.stock) });
  }
  return result;
}

/** Best price and total stock per country, for one service or (without serviceCode) for any service. */
export async function countryFigures(db: Db, isos: readonly string[], serviceCode?: string): Promise<Map<string, CountryFigures>> {
  const result = new Map<string, CountryFigures>();
  if (isos.length === 0) return result;
  const rows = await db.$queryRaw<{ country_iso: string; best: bigint; stock: bigint }[]>`
    SELECT o.country_iso, MIN(o.sell_micros) AS best, SUM(o.stock)::bigint AS stock
    FROM offers o
    JOIN providers p ON p.id = o.provider_id AND p.enabled
    WHERE o.country_iso = ANY (${isos as string[]}::text[]) AND o.stock > 0
      AND (${serviceCode ?? null}::text IS NULL OR o.service_code = ${serviceCode ?? null}::text)
    GROUP BY o.country_iso`;
  for (const row of rows) result.set(row.country_iso, { bestPriceMicros: row.best.toString(), stock: Number(row.stock) });
  return result;
}

/** What an empty service query lists: services in stock, cheapest first, then the most stocked. */
export async function servicesOnSale(db: Db, limit: number): Promise<{ code: string; name: string }[]> {
  return db.$queryRaw<{ code: string; name: string }[]>`
    SELECT s.code, s.name
    FROM (
      SELECT o.service_code, MIN(o.sell_micros) AS best, SUM(o.stock) AS stock
      FROM offers o
      JOIN providers p ON p.id = o.provider_id AND p.enabled
      WHERE o.stock > 0
      GROUP BY o.service_code
    ) f
    JOIN services s ON s.code = f.service_code
    ORDER BY f.best, f.stock DESC, s.name, s.code
    LIMIT ${limit}`;
}

/** What an empty country query lists: countries in stock (for the service when given), cheapest first. */
export async function countriesOnSale(db: Db, limit: number, serviceCode?: string): Promise<{ iso2: string; name: string; dial: string }[]> {
  return db.$queryRaw<{ iso2: string; name: string; dial: string }[]>`
    SELECT c.iso2, c.name, c.dial
    FROM (
      SELECT o.country_iso, MIN(o.sell_micros) AS best, SUM(o.stock) AS stock
      FROM offers o
      JOIN providers p ON p.id = o.provider_id AND p.enabled
      WHERE o.stock > 0 AND (${serviceCode ?? null}::text IS NULL OR o.service_code = ${serviceCode ?? null}::text)
      GROUP BY o.country_iso
    ) f
    JOIN countries c ON c.iso2 = f.country_iso
    ORDER BY f.best, f.stock DESC, c.name
    LIMIT ${limit}`;
}

/**
 * The tiers both engines promise: exact, prefix, fuzzy, similar; within a tier what is on sale
 * first, then fewer edits. Array.prototype.sort is stable, so the engine's own relevance order
 * survives within each group.
 */
export function byTierThenOnSale<T extends { match: MatchKind; bestPriceMicros: string | null; distance?: number }>(hits: T[]): T[] {
  return hits.sort(
    (a, b) =>
      MATCH_RANK[b.match] - MATCH_RANK[a.match] ||
      Number(b.bestPriceMicros !== null) - Number(a.bestPriceMicros !== null) ||
      (a.distance ?? 0) - (b.distance ?? 0),
  );
}

/** Search-result shaping, pure (unit-tested in test/unit/web-catalog.test.ts). */
import { toMicros } from '../../../ui/money';
import type { CountryPrice, Offer, ServiceHit } from '../../../ui/types';

/** Cheapest first, then the most stocked, then by name: the order customers pick from. */
export function cheapestFirst<T extends { priceMicros: string; stock: number; name?: string; countryName?: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => {
    const pa = toMicros(a.priceMicros);
    const pb = toMicros(b.priceMicros);
    if (pa != null && pb != null && pa !== pb) return pa < pb ? -1 : 1;
    if (pa == null && pb != null) return 1;
    if (pb == null && pa != null) return -1;
    if (a.stock !== b.stock) return b.stock - a.stock;
    return (a.name ?? a.countryName ?? '').localeCompare(b.name ?? b.countryName ?? '');
  });
}

/** Favourites first (in the order the search ranked them), everything else after, order kept. */
export function pinFavourites<T extends { code: string }>(services: readonly T[], favourites: readonly string[]): T[] {
  const set = new Set(favourites);
  return [...services.filter((s) => set.has(s.code)), ...services.filter((s) => !set.has(s.code))];
}

/** "1,234 in stock", "Sold out". */
export function stockLabel(stock: number): string {
  return stock > 0 ? `${stock.toLocaleString('en-US')} in stock` : 'Sold out';
}

/** A search hit's country as an offer the buy button takes. */
export function offerOf(service: Pick<ServiceHit, 'code' | 'name'>, country: CountryPrice): Offer {
  return {
    serviceCode: service.code,
    serviceName: service.name,
    countryIso: country.iso2,
    countryName: country.name,
    priceMicros: country.priceMicros,
    stock: country.stock,
  };
}

/** Adds or removes `code`, newest favourite first. */
export function toggleFavourite(favourites: readonly string[], code: string): string[] {
  return favourites.includes(code) ? favourites.filter((c) => c !== code) : [code, ...favourites];
}

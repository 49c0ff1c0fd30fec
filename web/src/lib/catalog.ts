/** Search-result shaping, pure (unit-tested in test/unit/web-catalog.test.ts). */
import { toMicros } from '../../../ui/money';
import type { CountryPrice, Delivery, Offer, ServiceHit } from '../../../ui/types';

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
    delivery: country.delivery ?? null,
  };
}

/**
 * The success rate next to an offer, with what it is based on: "92% got the SMS" and
 * "23 of 25 numbers, last 24 h". Null when the server sent no record (statistics unavailable).
 */
export function deliveryLabel(delivery: Delivery | null | undefined): { text: string; detail: string } | null {
  if (!delivery) return null;
  const window = `last ${delivery.windowHours} h`;
  if (delivery.purchases <= 0) return { text: 'No sales yet', detail: `no numbers sold in the ${window}` };
  const sms = Math.min(delivery.smsReceived, delivery.purchases);
  const percent = Math.round((sms * 100) / delivery.purchases);
  const numbers = delivery.purchases === 1 ? 'number' : 'numbers';
  return { text: `${percent}% got the SMS`, detail: `${sms} of ${delivery.purchases} ${numbers}, ${window}` };
}

/**
 * What is missing for a purchase the wallet could not pay: what it needs (the server's
 * `requiredMicros`, else the price) minus what is available, rounded up to a whole cent so the
 * top-up link names an amount people can pay. Null when nothing is missing or it is unknown.
 */
export function missingMicros(required: string | null | undefined, available: string | null | undefined): bigint | null {
  const need = toMicros(required ?? null);
  if (need == null || need <= 0n) return null;
  const have = toMicros(available ?? null) ?? 0n;
  const short = need - (have > 0n ? have : 0n);
  if (short <= 0n) return null;
  return ((short + 9_999n) / 10_000n) * 10_000n;
}

/** The top-up route, told how much is missing (micro-dollars). */
export const topUpHref = (missing: bigint | null) => (missing != null ? `#/wallet/topup?missing=${missing.toString()}` : '#/wallet/topup');

/** Adds or removes `code`, newest favourite first. */
export function toggleFavourite(favourites: readonly string[], code: string): string[] {
  return favourites.includes(code) ? favourites.filter((c) => c !== code) : [code, ...favourites];
}

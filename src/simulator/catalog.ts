import { providerCountries, providerServices, type ProviderCountry } from './reference';
import { createRandom } from './random';

/**
 * What one simulated provider sells: its services, its countries (in its own numbering) and an
 * offer — stock and price — per (service, country), or per (product, country, operator) for 5sim.
 * Prices are provider-currency micros.
 *
 * Schemes: `sms-activate` and `herosms` key services by SMS-Activate code (`tg`) and countries by
 * numeric id (`6`, Russia `0` vs `222`); `fivesim` keys them by 5sim slug (`telegram`, `england`)
 * and adds the operator dimension 5sim prices by.
 */
export type CountryScheme = 'sms-activate' | 'herosms' | 'fivesim';
type NumericScheme = Exclude<CountryScheme, 'fivesim'>;

export interface SimService {
  code: string;
  name: string;
}

export interface SimCountry {
  /** The provider's own id, as a string (`"6"`, or `"222"` for Russia on HeroSMS). */
  id: string;
  iso2: string;
  name: string;
  nameRu: string;
  /** Calling code, digits only: phones are `dial + national number`. */
  dial: string;
  visible: boolean;
}

export interface Offer {
  service: string;
  country: string;
  /** 5sim only: the operator selling this (product, country) pair. handler_api offers have none. */
  operator?: string;
  stock: number;
  priceMicros: bigint;
  /** 5sim only: the operator's delivery success %, or null where 5sim does not know it (the key is then absent, spec 1.5). */
  rate?: number | null;
}

/** The services people actually buy (spec 2.8), in SMS-Activate codes. */
const TOP_SERVICES = [
  'tg', 'wa', 'go', 'ig', 'fb', 'vk', 'ok', 'vi', 'tw', 'ds', 'am', 'mm', 'dr',
  'acz', 'oi', 'lf', 'wb', 'ya', 'ma', 'mb', 'ts', 'nf', 'uk', 'av', 'ot',
];

/** SMS-Activate country ids (spec 2.8); HeroSMS tenants get the same countries under their ids. */
const TOP_COUNTRIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 19, 21, 22, 31, 33, 36, 43, 52, 54, 56, 62, 73, 78, 86, 187];

/** SMS-Activate id 12 is "USA (virtual)", an alternative id of the US; HeroSMS hides it. */
const USA_VIRTUAL = 12;

/** Every tenant sells these, so demos and tests always find Telegram in Indonesia and the UK. */
const ALWAYS_SOLD: ReadonlyArray<[service: string, smsActivateCountry: number]> = [
  ['tg', 6],
  ['tg', 16],
  ['wa', 6],
];

/** Share of (service, country) pairs a tenant does not sell at all, and of sold ones that are out of stock. */
const NOT_SOLD_RATE = 0.35;
const OUT_OF_STOCK_RATE = 0.08;

export const offerKey = (service: string, country: string, operator?: string) =>
  operator === undefined ? `${service}:${country}` : `${service}:${country}:${operator}`;

/**
 * 5sim operator names per ISO country: real ones where 5sim lists them, plus its `virtualNN`
 * pools. Elsewhere only virtual operators, which is what 5sim mostly sells.
 */
const FIVESIM_OPERATORS: Record<string, readonly string[]> = {
  RU: ['mts', 'beeline', 'megafon', 'tele2', 'virtual4'],
  KZ: ['beeline', 'tele2', 'activ', 'virtual4'],
  UA: ['kyivstar', 'vodafone', 'lifecell', 'virtual4'],
  ID: ['telkomsel', 'indosat', 'axis', 'three', 'virtual4'],
  GB: ['virtual21', 'virtual38', 'virtual53', 'ee', 'vodafone'],
  US: ['virtual21', 'virtual38', 'virtual53', 'tmobile'],
};
const FIVESIM_DEFAULT_OPERATORS = ['virtual21', 'virtual38', 'virtual4', 'virtual53'];
/** Share of 5sim operators whose `rate` is unknown (absent from /guest/prices). */
const NO_RATE_RATE = 0.25;

export class Catalog {
  constructor(readonly scheme: CountryScheme) {}

  readonly services = new Map<string, SimService>();
  readonly countries = new Map<string, SimCountry>();
  private readonly offers = new Map<string, Offer>();

  /** The offer for a pair; on a 5sim catalog, for one operator of the pair. */
  offer(service: string, country: string, operator?: string): Offer | undefined {
    return this.offers.get(offerKey(service, country, operator));
  }

  /** Adds or replaces an offer; a service or country not yet known becomes known (from the reference data when it can). */
  setOffer(offer: Offer): Offer {
    if (!this.services.has(offer.service)) this.services.set(offer.service, lookupService(offer.service, this.scheme));
    if (!this.countries.has(offer.country)) this.countries.set(offer.country, countryByProviderId(offer.country, this.scheme));
    const stored = { ...offer };
    this.offers.set(offerKey(offer.service, offer.country, offer.operator), stored);
    return stored;
  }

  deleteOffer(offer: Pick<Offer, 'service' | 'country' | 'operator'>): void {
    this.offers.delete(offerKey(offer.service, offer.country, offer.operator));
  }

  listOffers(filter: { service?: string; country?: string; operator?: string } = {}): Offer[] {
    return [...this.offers.values()].filter(
      (offer) =>
        (filter.service === undefined || offer.service === filter.service) &&
        (filter.country === undefined || offer.country === filter.country) &&
        (filter.operator === undefined || offer.operator === filter.operator),
    );
  }

  /** 5sim: the operators a country's offers name, in catalog order. */
  operatorsIn(country: string): string[] {
    return [...new Set(this.listOffers({ country }).flatMap((offer) => (offer.operator === undefined ? [] : [offer.operator])))];
  }
}

/** Builds a tenant's catalog from its seed: same seed, same catalog, byte for byte. */
export function seedCatalog(seed: number, scheme: CountryScheme): Catalog {
  if (scheme === 'fivesim') return fivesimCatalog(seedCatalog(seed, 'sms-activate'), seed);
  const random = createRandom(seed);
  const catalog = new Catalog(scheme);
  for (const code of TOP_SERVICES) catalog.services.set(code, lookupService(code, scheme));
  for (const id of TOP_COUNTRIES) {
    const country = countryBySmsActivateId(id, scheme);
    if (country) catalog.countries.set(country.id, country);
  }
  const alwaysSold = new Set(
    ALWAYS_SOLD.map(([service, id]) => offerKey(service, countryBySmsActivateId(id, scheme)?.id ?? String(id))),
  );

  for (const service of catalog.services.keys()) {
    for (const country of catalog.countries.keys()) {
      const guaranteed = alwaysSold.has(offerKey(service, country));
      // Draw every number for every pair, so whether one pair is sold never shifts another's price.
      const skip = random.next() < NOT_SOLD_RATE;
      const empty = random.next() < OUT_OF_STOCK_RATE;
      const stock = random.int(guaranteed ? 200 : 20, 5000);
      // Thousandths of a unit: sub-cent prices (0.014) are real and exercise the micros path.
      const priceMicros = BigInt(random.int(10, 900)) * 1000n;
      if (skip && !guaranteed) continue;
      catalog.setOffer({ service, country, stock: empty && !guaranteed ? 0 : stock, priceMicros });
    }
  }
  return catalog;
}

/**
 * The 5sim view of an SMS-Activate catalog drawn from the same seed: only services and countries
 * that have a 5sim slug, each sold pair split over one to three operators. The first operator
 * keeps the pair's seeded price and stock, the others cost more, so the cheapest operator of a
 * pair is what the handler_api tenant with the same seed would charge.
 */
function fivesimCatalog(base: Catalog, seed: number): Catalog {
  // A separate stream: the operator split must not shift anything the base catalog drew.
  const random = createRandom(seed ^ 0x2545f491);
  const catalog = new Catalog('fivesim');
  const products = new Map<string, string>();
  for (const code of base.services.keys()) {
    const product = providerServices.find((service) => service.smsActivateCode === code)?.fiveSimProduct;
    if (!product) continue;
    products.set(code, product);
    catalog.services.set(product, lookupService(product, 'fivesim'));
  }
  const slugs = new Map<string, string>();
  for (const country of base.countries.values()) {
    // "USA (virtual)" is an SMS-Activate alias of the US, which 5sim lists once.
    if (country.id === String(USA_VIRTUAL)) continue;
    const row = providerCountries.find((candidate) => String(candidate.smsActivateId) === country.id);
    if (!row?.fiveSimSlug) continue;
    slugs.set(country.id, row.fiveSimSlug);
    catalog.countries.set(row.fiveSimSlug, toFivesimCountry(row));
  }
  for (const offer of base.listOffers()) {
    const product = products.get(offer.service);
    const slug = slugs.get(offer.country);
    if (!product || !slug) continue;
    const pool = [...(FIVESIM_OPERATORS[catalog.countries.get(slug)!.iso2] ?? FIVESIM_DEFAULT_OPERATORS)];
    const count = random.int(1, 3);
    for (let i = 0; i < count; i++) {
      const operator = pool.splice(random.int(0, pool.length - 1), 1)[0];
      const rate = random.next() < NO_RATE_RATE ? null : random.int(200, 1000) / 10;
      const priceMicros = i === 0 ? offer.priceMicros : offer.priceMicros + BigInt(random.int(1, 300)) * 1000n;
      const stock = i === 0 ? offer.stock : random.int(0, 3000);
      catalog.setOffer({ service: product, country: slug, operator, stock, priceMicros, rate });
    }
  }
  return catalog;
}

function lookupService(code: string, scheme: CountryScheme): SimService {
  const row = providerServices.find((service) => (scheme === 'fivesim' ? service.fiveSimProduct : service.smsActivateCode) === code);
  return { code, name: row?.name ?? code };
}

function toFivesimCountry(row: ProviderCountry): SimCountry {
  return { id: row.fiveSimSlug!, iso2: row.iso2, name: row.fiveSimName ?? row.name, nameRu: row.smsActivateNameRu ?? '', dial: row.dial, visible: true };
}

function countryBySmsActivateId(smsActivateId: number, scheme: NumericScheme): SimCountry | undefined {
  if (smsActivateId === USA_VIRTUAL) {
    if (scheme === 'herosms') return undefined;
    const usa = providerCountries.find((row) => row.altSmsActivateIds?.includes(USA_VIRTUAL));
    return usa && { id: String(USA_VIRTUAL), iso2: usa.iso2, name: 'USA (virtual)', nameRu: 'США (виртуальные)', dial: usa.dial, visible: true };
  }
  const row = providerCountries.find((country) => country.smsActivateId === smsActivateId);
  return row && toSimCountry(row, scheme);
}

/** A country added at runtime (control API): the reference row when the id is known, else a placeholder. */
function countryByProviderId(id: string, scheme: CountryScheme): SimCountry {
  if (scheme === 'fivesim') {
    const row = providerCountries.find((country) => country.fiveSimSlug === id);
    return row ? toFivesimCountry(row) : { id, iso2: '', name: id, nameRu: '', dial: '999', visible: true };
  }
  const row = providerCountries.find((country) => String(scheme === 'herosms' ? country.heroSmsId : country.smsActivateId) === id);
  return (row && toSimCountry(row, scheme)) ?? { id, iso2: '', name: `Country ${id}`, nameRu: '', dial: '999', visible: true };
}

function toSimCountry(row: ProviderCountry, scheme: NumericScheme): SimCountry | undefined {
  const id = scheme === 'herosms' ? row.heroSmsId : row.smsActivateId;
  if (id == null) return undefined;
  return {
    id: String(id),
    iso2: row.iso2,
    name: row.smsActivateName ?? row.name,
    nameRu: row.smsActivateNameRu ?? '',
    dial: row.dial,
    // HeroSMS lists Russia (222) but hides it; the other ids used here are visible everywhere.
    visible: !(scheme === 'herosms' && id === 222),
  };
}

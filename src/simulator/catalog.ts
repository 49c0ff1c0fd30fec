import { referenceCountries, referenceServices, type ReferenceCountry } from '../catalog/reference-data';
import { createRandom } from './random';

/**
 * What one simulated provider sells: its services, its countries (in its own numbering) and an
 * offer — stock and price — per (service, country). Prices are provider-currency micros.
 */
export type CountryScheme = 'sms-activate' | 'herosms';

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
  stock: number;
  priceMicros: bigint;
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

/** Reference rows carry more fields than reference-data.ts types; these are the ones used here. */
type CountryRow = ReferenceCountry & { smsActivateName?: string | null; smsActivateNameRu?: string | null };

export const offerKey = (service: string, country: string) => `${service}:${country}`;

export class Catalog {
  constructor(readonly scheme: CountryScheme) {}

  readonly services = new Map<string, SimService>();
  readonly countries = new Map<string, SimCountry>();
  private readonly offers = new Map<string, Offer>();

  offer(service: string, country: string): Offer | undefined {
    return this.offers.get(offerKey(service, country));
  }

  /** Adds or replaces an offer; a service or country not yet known becomes known (from the reference data when it can). */
  setOffer(offer: Offer): Offer {
    if (!this.services.has(offer.service)) this.services.set(offer.service, lookupService(offer.service));
    if (!this.countries.has(offer.country)) this.countries.set(offer.country, countryByProviderId(offer.country, this.scheme));
    const stored = { ...offer };
    this.offers.set(offerKey(offer.service, offer.country), stored);
    return stored;
  }

  listOffers(filter: { service?: string; country?: string } = {}): Offer[] {
    return [...this.offers.values()].filter(
      (offer) => (filter.service === undefined || offer.service === filter.service) && (filter.country === undefined || offer.country === filter.country),
    );
  }
}

/** Builds a tenant's catalog from its seed: same seed, same catalog, byte for byte. */
export function seedCatalog(seed: number, scheme: CountryScheme): Catalog {
  const random = createRandom(seed);
  const catalog = new Catalog(scheme);
  for (const code of TOP_SERVICES) catalog.services.set(code, lookupService(code));
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

function lookupService(code: string): SimService {
  const row = referenceServices.find((service) => service.smsActivateCode === code);
  return { code, name: row?.name ?? code };
}

const countryRows = referenceCountries as CountryRow[];

function countryBySmsActivateId(smsActivateId: number, scheme: CountryScheme): SimCountry | undefined {
  if (smsActivateId === USA_VIRTUAL) {
    if (scheme === 'herosms') return undefined;
    const usa = countryRows.find((row) => row.altSmsActivateIds?.includes(USA_VIRTUAL));
    return usa && { id: String(USA_VIRTUAL), iso2: usa.iso2, name: 'USA (virtual)', nameRu: 'США (виртуальные)', dial: usa.dial, visible: true };
  }
  const row = countryRows.find((country) => country.smsActivateId === smsActivateId);
  return row && toSimCountry(row, scheme);
}

/** A country added at runtime (control API): the reference row when the id is known, else a placeholder. */
function countryByProviderId(id: string, scheme: CountryScheme): SimCountry {
  const row = countryRows.find((country) => String(scheme === 'herosms' ? country.heroSmsId : country.smsActivateId) === id);
  return (row && toSimCountry(row, scheme)) ?? { id, iso2: '', name: `Country ${id}`, nameRu: '', dial: '999', visible: true };
}

function toSimCountry(row: CountryRow, scheme: CountryScheme): SimCountry | undefined {
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

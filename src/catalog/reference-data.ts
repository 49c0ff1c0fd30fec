import countries from './data/countries.json';
import services from './data/services.json';

/** Public identifier tables (see ../shared/data/README.md): how each provider names a service and a country. */
export interface ReferenceService {
  code: string;
  name: string;
  aliases: string[];
  smsActivateCode: string | null;
  fiveSimProduct: string | null;
}

export interface ReferenceCountry {
  iso2: string;
  name: string;
  dial: string;
  smsActivateId: number | null;
  heroSmsId: number | null;
  fiveSimSlug: string | null;
  altSmsActivateIds?: number[];
  /** The names handler_api's getCountries shows (`eng`, `rus`). */
  smsActivateName?: string | null;
  smsActivateNameRu?: string | null;
}

export const referenceServices = services as ReferenceService[];
export const referenceCountries = countries as ReferenceCountry[];

/** How a provider names countries (and, for 5sim, services): SMS-Activate ids, HeroSMS ids, or 5sim slugs. */
export type CountryIdScheme = 'sms-activate' | 'herosms' | 'fivesim';

/** Upstream country id → ISO code, for one provider's numbering (`6` → ID; `england` → GB for 5sim). */
export function countryIsoByUpstreamId(scheme: CountryIdScheme): Map<string, string> {
  const map = new Map<string, string>();
  for (const country of referenceCountries) {
    const id = scheme === 'herosms' ? country.heroSmsId : scheme === 'fivesim' ? country.fiveSimSlug : country.smsActivateId;
    if (id != null) map.set(String(id), country.iso2);
  }
  return map;
}

/**
 * Upstream service code → catalog code: SMS-Activate codes for the handler_api family (identical
 * to ours today), 5sim product slugs (`telegram` → `tg`) for `fivesim`.
 */
export function serviceCodeByUpstreamCode(scheme: CountryIdScheme = 'sms-activate'): Map<string, string> {
  const map = new Map<string, string>();
  for (const service of referenceServices) {
    const upstream = scheme === 'fivesim' ? service.fiveSimProduct : service.smsActivateCode;
    if (upstream) map.set(upstream, service.code);
  }
  return map;
}

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
}

export const referenceServices = services as ReferenceService[];
export const referenceCountries = countries as ReferenceCountry[];

export type CountryIdScheme = 'sms-activate' | 'herosms';

/** Upstream country id → ISO code, for one provider's numbering. */
export function countryIsoByUpstreamId(scheme: CountryIdScheme): Map<string, string> {
  const map = new Map<string, string>();
  for (const country of referenceCountries) {
    const id = scheme === 'herosms' ? country.heroSmsId : country.smsActivateId;
    if (id != null) map.set(String(id), country.iso2);
  }
  return map;
}

/** Upstream service code → catalog code (identical for the SMS-Activate family today, kept explicit for 5sim). */
export function serviceCodeByUpstreamCode(): Map<string, string> {
  const map = new Map<string, string>();
  for (const service of referenceServices) if (service.smsActivateCode) map.set(service.smsActivateCode, service.code);
  return map;
}

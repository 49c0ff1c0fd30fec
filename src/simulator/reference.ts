import countries from './data/countries.json';
import services from './data/services.json';

/**
 * How the providers the simulator imitates name services and countries. The tables were copied
 * once from SimGate's reference data and are kept apart on purpose: were both sides reading one
 * table, a wrong id in it would agree with itself over the wire and no test would see it.
 */
export interface ProviderService {
  name: string;
  smsActivateCode: string | null;
  fiveSimProduct: string | null;
}

export interface ProviderCountry {
  iso2: string;
  name: string;
  /** Calling code, digits only. */
  dial: string;
  smsActivateId: number | null;
  heroSmsId: number | null;
  fiveSimSlug: string | null;
  smsActivateName: string | null;
  smsActivateNameRu: string | null;
  fiveSimName: string | null;
  /** Further SMS-Activate ids of the same country (12, "USA (virtual)", for the US). */
  altSmsActivateIds?: number[];
}

export const providerServices: readonly ProviderService[] = services;
export const providerCountries: readonly ProviderCountry[] = countries;

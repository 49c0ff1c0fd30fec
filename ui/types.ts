/** Shapes of the SimGate JSON API as the web and admin apps read them. Money fields are micro-dollar strings. */

export type Micros = string;

export interface User {
  id: string;
  email: string;
  role: 'CUSTOMER' | 'ADMIN' | (string & {});
  /** `GET /api/auth/me` only. */
  emailVerified?: boolean;
}

export interface AuthResponse {
  token: string;
  user: User;
  /** Seconds the access token lives. */
  expiresIn?: number;
  /** Echo in X-CSRF-Token on refresh and logout. */
  csrfToken?: string;
}

export interface ServiceSummary {
  code: string;
  name: string;
  bestPriceMicros: Micros | null;
  stock: number;
}

/** How numbers of a service in a country fared lately (all providers): bought, and how many got their SMS. */
export interface Delivery {
  purchases: number;
  smsReceived: number;
  windowHours: number;
}

/** A country where a service is sold: best price across providers and total stock. */
export interface CountryPrice {
  iso2: string;
  name: string;
  priceMicros: Micros;
  stock: number;
  delivery?: Delivery | null;
}

/** `GET /api/catalog/search` and `/catalog/services`: a service with its cheapest countries. */
export interface ServiceHit extends ServiceSummary {
  score?: number;
  match?: string;
  topCountries: CountryPrice[];
}

export interface CountryHit {
  iso2: string;
  name: string;
  dial: string;
  bestPriceMicros: Micros | null;
  stock: number;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedApiKey {
  apiKey: ApiKey;
  key: string;
  signingSecret: string;
}

export interface Offer {
  serviceCode: string;
  serviceName: string;
  countryIso: string;
  countryName: string;
  priceMicros: Micros;
  stock: number;
  delivery?: Delivery | null;
}

export type ActivationStatus = 'RESERVED' | 'ACTIVE' | 'COMPLETED' | 'CANCELLED' | 'EXPIRED' | 'FAILED';

export const ACTIVATION_STATUSES: readonly ActivationStatus[] = [
  'RESERVED',
  'ACTIVE',
  'COMPLETED',
  'CANCELLED',
  'EXPIRED',
  'FAILED',
];

export interface SmsMessage {
  seq: number;
  code: string | null;
  text: string;
  receivedAt: string;
}

export interface Activation {
  id: string;
  status: ActivationStatus;
  serviceCode: string;
  countryIso: string;
  /** The catalog's names ("Telegram", "Colombia") and the dialling code without "+" ("57"). */
  serviceName: string;
  countryName: string;
  countryDial: string;
  providerId: string | null;
  phone: string | null;
  heldMicros: Micros | null;
  priceMicros: Micros | null;
  expiresAt: string | null;
  cancelAllowedAt: string | null;
  failureReason: string | null;
  messages: SmsMessage[];
  actions: { cancel: boolean; retry: boolean; finish: boolean };
  createdAt: string;
  /** Admin listings only. */
  userId?: string;
  userEmail?: string;
}

export interface Wallet {
  availableMicros: Micros;
  heldMicros: Micros;
}

export interface LedgerEntry {
  id: string | number;
  kind: 'CREDIT' | 'HOLD' | 'CAPTURE' | 'RELEASE' | 'DEBIT';
  availableDelta: Micros;
  heldDelta: Micros;
  memo: string;
  createdAt: string;
  /** The number this line is about (holds, payments, refunds), named as the catalog names it. */
  purchase?: { activationId: string; serviceCode: string; serviceName: string; countryIso: string; countryName: string } | null;
}

export const isLive = (a: Pick<Activation, 'status'>) => a.status === 'RESERVED' || a.status === 'ACTIVE';

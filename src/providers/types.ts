/**
 * What SimGate needs from any upstream: one interface, one adapter per wire protocol
 * (sms-activate.adapter.ts for the handler_api family, fivesim.adapter.ts for 5sim). Amounts are
 * micro-units of the provider's own currency; catalog sync converts them to USD micros once
 * (src/lib/money.ts).
 */
export interface BuyRequest {
  /** The provider's own service code and country id, as stored on the offer: `tg` and `6` on handler_api, `telegram` and `england` on 5sim. */
  service: string;
  country: string;
  /** Ceiling in provider-currency micros; the provider refuses with WRONG_MAX_PRICE above it. */
  maxPriceMicros?: bigint;
}

export interface PurchasedNumber {
  upstreamId: string;
  /** E.164 with a leading `+`, whatever the provider sent. */
  phone: string;
  /** What the provider charged, in provider-currency micros, when it says (getNumberV2 does). */
  costMicros: bigint | null;
}

/** A provider's view of one activation, normalised across protocols. */
export type UpstreamStatus =
  | { state: 'WAITING' }
  | { state: 'WAITING_RETRY'; lastCode: string }
  | { state: 'CODE'; code: string; text: string | null }
  | { state: 'CANCELLED' }
  | { state: 'FINISHED'; code: string | null };

export interface UpstreamPrice {
  service: string;
  country: string;
  costMicros: bigint;
  stock: number;
}

export interface UpstreamActivation {
  upstreamId: string;
  service: string;
  phone: string;
  codes: string[];
  text: string | null;
}

/**
 * A number the provider still holds for us, with what reconciliation needs to match it to a buy
 * whose reply was lost (service, country, cost, when it was sold) or to settle it as an orphan.
 */
export interface UpstreamSale {
  upstreamId: string;
  service: string;
  /** The provider's own country id or slug; null when its list does not say. */
  country: string | null;
  phone: string;
  /** In provider-currency micros; null when not said. */
  costMicros: bigint | null;
  /** ISO time the provider says it sold the number (taken as UTC); null when not said or unreadable. */
  soldAt: string | null;
  codes: string[];
}

export interface ProviderAdapter {
  readonly id: string;
  buy(request: BuyRequest): Promise<PurchasedNumber>;
  getStatus(upstreamId: string): Promise<UpstreamStatus>;
  /** Resolves once the provider confirms the cancel (or says it was already cancelled). */
  cancel(upstreamId: string): Promise<void>;
  finish(upstreamId: string): Promise<void>;
  requestAnotherSms(upstreamId: string): Promise<void>;
  getPrices(filter?: { service?: string; country?: string }): Promise<UpstreamPrice[]>;
  getBalance(): Promise<bigint>;
  getActiveActivations(): Promise<UpstreamActivation[]>;
  /** The same list as getActiveActivations, in the detail reconciliation needs. */
  getOpenSales(): Promise<UpstreamSale[]>;
}

/** getStatusV2 (spec 2.6), normalised: the latest SMS and voice call, or the activation's end. */
export type UpstreamStatusV2 =
  | { state: 'CANCELLED' }
  | {
      state: 'ACTIVE';
      /** The provider's own number for how the code is delivered (0 = SMS on the simulator); null when not said. */
      verificationType: number | null;
      sms: { code: string; text: string | null; receivedAt: string | null } | null;
      call: { code: string; text: string | null; from: string | null; receivedAt: string | null; url: string | null } | null;
    };

/** One row of getTopCountriesByService, in the provider's order (best first). */
export interface UpstreamTopCountry {
  country: string;
  stock: number;
  costMicros: bigint;
  retailMicros: bigint | null;
  /** With `freePrice`: how many numbers sell at which price, cheapest first; null when not asked or not given. */
  freePrices: Array<{ costMicros: bigint; stock: number }> | null;
}

export interface UpstreamCountry {
  id: string;
  nameEn: string;
  nameRu: string | null;
  visible: boolean;
}

export interface UpstreamService {
  code: string;
  name: string;
}

/**
 * What the handler_api family offers beyond ProviderAdapter (SmsActivateAdapter implements it).
 * Optional on purpose: 5sim has no such calls, and the workflow never needs them.
 */
export interface SmsActivateExtras {
  getStatusV2(upstreamId: string): Promise<UpstreamStatusV2>;
  getTopCountriesByService(service: string, options?: { freePrice?: boolean }): Promise<UpstreamTopCountry[]>;
  getCountries(): Promise<UpstreamCountry[]>;
  getServicesList(options?: { country?: string; lang?: string }): Promise<UpstreamService[]>;
}

/**
 * Typed upstream failures. `kind` decides what the workflow does:
 * - NO_NUMBERS: try the next provider;
 * - REJECTED: this request can never succeed here (bad key, bad service, max price, no balance…), not retried;
 * - EARLY_CANCEL: the provider's minimum age has not passed; `retryAfterMs` when known;
 * - HAS_SMS: refused because a code arrived (cancel after SMS);
 * - BAD_STATE: the action is not legal in the activation's current state;
 * - NOT_FOUND: the provider does not know the activation;
 * - TRANSIENT: network, timeout, 429/5xx, server faults: retried with backoff.
 */
export type ProviderErrorKind = 'NO_NUMBERS' | 'REJECTED' | 'EARLY_CANCEL' | 'HAS_SMS' | 'BAD_STATE' | 'NOT_FOUND' | 'TRANSIENT';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    /** The provider's own token or phrase (`NO_NUMBERS`, `BAD_KEY`, `order has sms`, `HTTP 503`…). */
    readonly token: string,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'TRANSIENT';
  }
}

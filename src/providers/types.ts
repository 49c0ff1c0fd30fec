/**
 * What SimGate needs from any upstream: one interface, one adapter per wire protocol
 * (sms-activate.adapter.ts today; 5sim next). Amounts are micro-units of the provider's own
 * currency; catalog sync converts them to USD micros once (src/lib/money.ts).
 */
export interface BuyRequest {
  /** The provider's own service code (`tg`) and country id (`6`), as stored on the offer. */
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

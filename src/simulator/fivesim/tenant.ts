import { amountToMicros } from '../amount';
import type { Offer } from '../catalog';
import { seedFromText } from '../random';
import { providerCountries } from '../reference';
import { TenantBase, type SimOrder, type TenantConfig, type TenantDeps } from '../tenant-base';
import { decideAction, decideAllocation, decideExpiry, isFivesimTerminal, isLive, type FivesimAction, type FivesimStatus } from './state';

/** A 5sim activation order. */
export interface FivesimOrder extends SimOrder<FivesimStatus> {
  /** Microseconds past the millisecond of `created_at` / `expires`, so timestamps carry real-looking fractions. */
  readonly micros: number;
  readonly forwarding: boolean;
  readonly forwardingNumber: string;
  readonly reuse: boolean;
  readonly voice: boolean;
}

/** A refusal in 5sim terms: the HTTP status and the exact plain-text phrase of spec 1.6. */
export class FivesimError extends Error {
  constructor(
    readonly status: number,
    readonly phrase: string,
  ) {
    super(phrase);
    this.name = 'FivesimError';
  }
}

export interface FivesimBuyRequest {
  /** Country slug or `any`. */
  country: string;
  /** Operator name or `any`. */
  operator: string;
  product: string;
  /** Decimal ceiling; honoured only with operator `any`, as on 5sim (spec 1.2). */
  maxPrice?: string;
  forwarding?: boolean;
  forwardingNumber?: string;
  reuse?: boolean;
  voice?: boolean;
}

/** Spec section 4: 15 min in the docs' examples; no cancel lock unless configured. */
export const FIVESIM_LIFETIME_MS = 15 * 60_000;
export const FIVESIM_CANCEL_LOCK_MS = 0;

const smsActivateIdBySlug = new Map(providerCountries.flatMap((row) => (row.fiveSimSlug && row.smsActivateId != null ? [[row.fiveSimSlug, row.smsActivateId] as const] : [])));

/**
 * One simulated 5sim account: the spec 5.1 order state machine over the shared tenant core.
 * Money follows spec 1.7: buying takes the price from `balance` into `frozen_balance` (derived
 * here from the live orders); finishing spends it, cancel / ban / timeout give it back.
 */
export class FivesimTenant extends TenantBase<FivesimOrder> {
  declare readonly protocol: 'fivesim';
  readonly looseNumbers: boolean;
  /** The account id /user/profile reports. */
  readonly accountId: number;

  constructor(config: TenantConfig, deps: TenantDeps) {
    super(config, deps, { protocol: 'fivesim', scheme: 'fivesim', lifetimeMs: FIVESIM_LIFETIME_MS, minCancelMs: FIVESIM_CANCEL_LOCK_MS });
    this.looseNumbers = config.looseNumbers ?? false;
    this.accountId = 100_000 + (seedFromText(config.id) % 900_000);
  }

  /** `GET /user/buy/activation/{country}/{operator}/{product}`: the cheapest operator with stock under the ceiling. */
  buy(request: FivesimBuyRequest): FivesimOrder {
    const { product, operator } = request;
    const anyCountry = request.country === 'any';
    if (!this.catalog.services.has(product)) throw new FivesimError(400, 'no product');
    if (!anyCountry && !this.catalog.countries.has(request.country)) throw new FivesimError(400, 'bad country');
    if (operator !== 'any' && !this.knowsOperator(anyCountry ? undefined : request.country, operator)) throw new FivesimError(400, 'bad operator');
    const offers = this.catalog.listOffers({ service: product, country: anyCountry ? undefined : request.country, operator: operator === 'any' ? undefined : operator });
    if (offers.length === 0) throw new FivesimError(400, 'no product');
    const ceiling = operator === 'any' ? parseCeiling(request.maxPrice) : undefined;
    const offer = cheapest(offers.filter((candidate) => candidate.stock > 0 && (ceiling === undefined || candidate.priceMicros <= ceiling)));
    // The trap of spec 1.6: a refusal with HTTP 200.
    if (!offer) throw new FivesimError(200, 'no free phones');
    if (this.balanceMicros < offer.priceMicros) throw new FivesimError(400, 'not enough user balance');

    const country = this.catalog.countries.get(offer.country)!;
    const now = this.now();
    return this.record(
      {
        id: this.nextId(),
        service: product,
        country: offer.country,
        phone: this.newPhone(country),
        operator: offer.operator ?? 'any',
        costMicros: offer.priceMicros,
        createdAt: now,
        expiresAt: now + this.settings.lifetimeMs,
        state: 'PENDING',
        sms: [],
        lateSms: [],
        endedAt: null,
        micros: this.random.int(1, 999),
        forwarding: request.forwarding ?? false,
        forwardingNumber: request.forwarding ? (request.forwardingNumber ?? '') : '',
        reuse: request.reuse ?? false,
        voice: request.voice ?? false,
      },
      offer,
    );
  }

  /** `check`: the order, settled; unknown or another account's id → 404 `order not found` (as seen live). */
  check(id: string): FivesimOrder {
    const order = this.lookup(id);
    if (!order) throw new FivesimError(404, 'order not found');
    return order;
  }

  /** `finish` / `cancel` / `ban` with the spec 5.1 guards; unknown id → 400 `order not found`. */
  act(id: string, action: FivesimAction): FivesimOrder {
    const order = this.lookup(id);
    if (!order) throw new FivesimError(400, 'order not found');
    const decision = decideAction(order.state, action, {
      hasSms: order.sms.length > 0,
      ageMs: this.now() - order.createdAt,
      cancelLockMs: this.settings.minCancelMs,
    });
    if (!decision.ok) throw new FivesimError(400, decision.error);
    this.moveTo(order, decision.next, { refund: decision.refund, restock: decision.restock });
    return order;
  }

  /** What live orders hold: `frozen_balance`. */
  frozenMicros(): bigint {
    return this.active().reduce((sum, order) => sum + order.costMicros, 0n);
  }

  isTerminal(state: FivesimStatus): boolean {
    return isFivesimTerminal(state);
  }

  protected acceptsSms(order: FivesimOrder): boolean {
    return isLive(order.state);
  }

  /** The status stays: RECEIVED with a non-empty sms[] is how 5sim says "a code arrived". */
  protected smsArrived(): void {}

  protected settle(order: FivesimOrder): void {
    const now = this.now();
    const allocated = decideAllocation(order.state, now - order.createdAt, this.settings.allocationDelayMs);
    if (allocated) this.moveTo(order, allocated, { refund: false });
    if (now < order.expiresAt) return;
    const expiry = decideExpiry(order.state, order.sms.length > 0);
    if (expiry) this.moveTo(order, expiry.next, { refund: expiry.refund }, order.expiresAt);
  }

  protected offerOf(order: FivesimOrder): Offer | undefined {
    return this.catalog.offer(order.service, order.country, order.operator);
  }

  protected webhookCountry(order: FivesimOrder): number | string {
    return smsActivateIdBySlug.get(order.country) ?? order.country;
  }

  private lookup(id: string): FivesimOrder | undefined {
    return /^\d{1,15}$/.test(id) ? this.find(Number(id)) : undefined;
  }

  private knowsOperator(country: string | undefined, operator: string): boolean {
    return this.catalog.listOffers({ country, operator }).length > 0;
  }
}

function cheapest(offers: Offer[]): Offer | undefined {
  return offers.reduce<Offer | undefined>((best, offer) => (best === undefined || offer.priceMicros < best.priceMicros ? offer : best), undefined);
}

/** A ceiling that does not parse is ignored, as an unknown query option would be. */
function parseCeiling(text: string | undefined): bigint | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return amountToMicros(text);
  } catch {
    return undefined;
  }
}

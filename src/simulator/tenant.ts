import { amountNumber, amountToMicros, formatAmount } from './amount';
import type { Offer } from './catalog';
import { decideExpiry, decideSetStatus, decideSms, isTerminal, statusToken, type ActivationState } from './state';
import { TenantBase, type ErrorStyle, type SimOrder, type TenantConfig, type TenantDeps } from './tenant-base';

export type { AutoSmsConfig, ErrorStyle, Protocol, SimSms, TenantConfig, TenantDeps, TenantSettings } from './tenant-base';
export { DEFAULT_BALANCE_MICROS } from './tenant-base';

/** A handler_api activation; `state` is the spec 5.2 state (state.ts). */
export type SimActivation = SimOrder<ActivationState>;

/** A refusal in handler_api terms (`NO_NUMBERS`, `WRONG_MAX_PRICE` + `0.35`…); handler-api.ts renders it per error style. */
export class ProtocolError extends Error {
  constructor(
    readonly token: string,
    readonly arg?: string,
    readonly info?: Record<string, unknown>,
  ) {
    super(arg === undefined ? token : `${token}:${arg}`);
    this.name = 'ProtocolError';
  }
}

export const DEFAULT_LIFETIME_MS = 20 * 60_000;
export const DEFAULT_MIN_CANCEL_MS = 120_000;

/** Operators handed out per ISO country (getOperators lists them); elsewhere "any", which is what real providers report. */
export const OPERATORS: Readonly<Record<string, readonly string[]>> = {
  RU: ['mts', 'beeline', 'megafon', 'tele2'],
  KZ: ['beeline', 'tele2', 'activ'],
  UA: ['kyivstar', 'vodafone', 'lifecell'],
  ID: ['telkomsel', 'indosat', 'axis', 'three'],
  GB: ['ee', 'vodafone', 'three', 'o2'],
};

/** One simulated handler_api provider (SMS-Activate, HeroSMS, clones): the spec 5.2 state machine over the shared tenant core. */
export class SimTenant extends TenantBase<SimActivation> {
  declare readonly protocol: 'sms-activate';
  readonly errorStyle: ErrorStyle;
  readonly defaultCountry: string;
  readonly cancelAlreadyReply: boolean;

  constructor(config: TenantConfig, deps: TenantDeps) {
    const errorStyle = config.errorStyle ?? 'classic';
    super(config, deps, {
      protocol: 'sms-activate',
      scheme: errorStyle === 'hero' ? 'herosms' : 'sms-activate',
      lifetimeMs: DEFAULT_LIFETIME_MS,
      minCancelMs: DEFAULT_MIN_CANCEL_MS,
    });
    this.errorStyle = errorStyle;
    this.defaultCountry = String(config.defaultCountry ?? (errorStyle === 'hero' ? 6 : 0));
    this.cancelAlreadyReply = config.cancelAlreadyReply ?? false;
  }

  buy(request: { service?: string; country?: string; maxPrice?: string }): SimActivation {
    const service = request.service ?? '';
    if (!this.catalog.services.has(service)) throw new ProtocolError('BAD_SERVICE');
    const countryId = request.country === undefined || request.country === '' ? this.defaultCountry : request.country;
    const country = this.catalog.countries.get(countryId);
    if (!country) throw new ProtocolError('BAD_COUNTRY');
    const offer = this.catalog.offer(service, countryId);
    if (!offer || offer.stock <= 0) throw new ProtocolError('NO_NUMBERS');
    if (request.maxPrice !== undefined && request.maxPrice !== '' && parseAmount(request.maxPrice) < offer.priceMicros) {
      throw new ProtocolError('WRONG_MAX_PRICE', formatAmount(offer.priceMicros), { minPrice: amountNumber(offer.priceMicros) });
    }
    if (this.balanceMicros < offer.priceMicros) throw new ProtocolError('NO_BALANCE');

    const now = this.now();
    return this.record(
      {
        id: this.nextId(),
        service,
        country: countryId,
        phone: this.newPhone(country),
        operator: this.random.pick(OPERATORS[country.iso2] ?? ['any']),
        costMicros: offer.priceMicros,
        createdAt: now,
        expiresAt: now + this.settings.lifetimeMs,
        state: 'WAIT',
        sms: [],
        lateSms: [],
        endedAt: null,
      },
      offer,
    );
  }

  /** setStatus with the spec 5.2 rules; returns the reply token (ACCESS_*). */
  setStatus(id: string | undefined, status: string | undefined): string {
    const activation = this.get(id);
    const decision = decideSetStatus(activation.state, status ?? '', {
      ageMs: this.now() - activation.createdAt,
      minCancelMs: this.settings.minCancelMs,
      cancelAlreadyReply: this.cancelAlreadyReply,
    });
    if (!decision.ok) {
      if (decision.error === 'EARLY_CANCEL_DENIED') {
        throw new ProtocolError('EARLY_CANCEL_DENIED', undefined, { minActivationTime: Math.ceil(this.settings.minCancelMs / 1000) });
      }
      throw new ProtocolError(decision.error);
    }
    this.moveTo(activation, decision.next, { refund: decision.refund });
    if (decision.next === 'WAIT_RETRY') this.maybeScheduleAutoSms(activation);
    return decision.reply;
  }

  /** The activation a handler_api call names, settled against the clock; NO_ACTIVATION when unknown here. */
  get(id: string | undefined): SimActivation {
    const activation = id !== undefined && /^\d+$/.test(id) ? this.find(Number(id)) : undefined;
    if (!activation) throw new ProtocolError('NO_ACTIVATION');
    return activation;
  }

  statusToken(activation: SimActivation): string {
    return statusToken(activation.state, lastCode(activation));
  }

  isTerminal(state: ActivationState): boolean {
    return isTerminal(state);
  }

  /** Waiting for a first code or a retry; a code nobody asked to replace stays. */
  protected acceptsSms(activation: SimActivation): boolean {
    return decideSms(activation.state) !== null;
  }

  protected smsArrived(activation: SimActivation): void {
    this.moveTo(activation, 'GOT_CODE', { refund: false });
  }

  protected settle(activation: SimActivation): void {
    if (this.now() < activation.expiresAt) return;
    const expiry = decideExpiry(activation.state);
    if (expiry) this.moveTo(activation, expiry.next, { refund: expiry.refund }, activation.expiresAt);
  }

  protected offerOf(activation: SimActivation): Offer | undefined {
    return this.catalog.offer(activation.service, activation.country);
  }

  protected webhookCountry(activation: SimActivation): number {
    return Number(activation.country);
  }
}

export function lastCode(activation: SimActivation): string | null {
  return activation.sms.at(-1)?.code ?? null;
}

/** A decimal from the wire ("0.35"); anything unparseable counts as below every price (→ WRONG_MAX_PRICE). */
function parseAmount(text: string): bigint {
  try {
    return amountToMicros(text);
  } catch {
    return -1n;
  }
}

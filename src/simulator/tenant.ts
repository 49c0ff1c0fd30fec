import type { Logger } from '../lib/logger';
import { decimalToMicros, formatUsd } from '../lib/money';
import { seedCatalog, type Catalog, type Offer } from './catalog';
import { formatProviderTime, type SimClock } from './clock';
import { FaultQueue } from './faults';
import { createRandom, seedFromText, type Random } from './random';
import { decideExpiry, decideSetStatus, decideSms, isTerminal, statusToken, type ActivationState } from './state';
import { TimerSet } from './timers';
import { sendActivationWebhook } from './webhook';

/** `classic`: every reply HTTP 200 with a bare token. `hero`: HeroSMS's status-coded JSON errors. */
export type ErrorStyle = 'classic' | 'hero';

export interface AutoSmsConfig {
  /** Chance, 0..1, that a bought number (or a requested retry) receives a code on its own. */
  probability: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export interface TenantConfig {
  /** URL segment: the tenant answers at `/<id>/stubs/handler_api.php`. */
  id: string;
  apiKey: string;
  errorStyle?: ErrorStyle;
  /** Starting balance in provider-currency micros (default 1000.00). */
  balanceMicros?: bigint | number;
  /** Country used when a getNumber call names none (default 0 classic, 6 hero: HeroSMS has no 0). */
  defaultCountry?: string | number;
  lifetimeMs?: number;
  minCancelMs?: number;
  webhookUrl?: string | null;
  autoSms?: AutoSmsConfig | null;
  /** Catalog seed; derived from the id when absent, so tenants differ by default. */
  seed?: number;
  /** Clone behaviour: a repeated cancel answers ACCESS_CANCEL_ALREADY instead of BAD_STATUS. */
  cancelAlreadyReply?: boolean;
  /** Added to every handler_api call, for demos of a slow provider. */
  latencyMs?: number;
}

/** What can change at runtime through the control API. */
export interface TenantSettings {
  /** Fixed into each activation when it is bought: a change applies to later purchases. */
  lifetimeMs: number;
  /** Read at each cancel: a change applies to running activations too. */
  minCancelMs: number;
  webhookUrl: string | null;
  autoSms: AutoSmsConfig | null;
  latencyMs: number;
}

export interface SimSms {
  code: string;
  text: string;
  receivedAt: number;
}

export interface SimActivation {
  readonly id: number;
  readonly service: string;
  readonly country: string;
  /** Digits with country code, no `+`, as handler_api sends it. */
  readonly phone: string;
  readonly operator: string;
  readonly costMicros: bigint;
  readonly createdAt: number;
  readonly expiresAt: number;
  state: ActivationState;
  readonly sms: SimSms[];
  endedAt: number | null;
}

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

export interface TenantDeps {
  clock: SimClock;
  nextActivationId: () => number;
  logger: Logger;
}

export const DEFAULT_BALANCE_MICROS = 1_000_000_000n;
export const DEFAULT_LIFETIME_MS = 20 * 60_000;
export const DEFAULT_MIN_CANCEL_MS = 120_000;

/** Operators handed out per ISO country; elsewhere "any", which is what real providers report. */
const OPERATORS: Record<string, readonly string[]> = {
  RU: ['mts', 'beeline', 'megafon', 'tele2'],
  KZ: ['beeline', 'tele2', 'activ'],
  UA: ['kyivstar', 'vodafone', 'lifecell'],
  ID: ['telkomsel', 'indosat', 'axis', 'three'],
  GB: ['ee', 'vodafone', 'three', 'o2'],
};

/** Formats provider-currency micros exactly ("0.35", "0.014", "1000.00"); the helper is named for USD but is currency-blind. */
export const formatAmount = (micros: bigint) => formatUsd(micros);

/** JSON wants prices as numbers; the exact decimal string's number is the shortest faithful one (0.35, not 0.35000000000000003). */
export const amountNumber = (micros: bigint) => Number(formatAmount(micros));

/** One simulated provider: its catalog, balance, activations and scripted faults. */
export class SimTenant {
  readonly id: string;
  readonly apiKey: string;
  readonly errorStyle: ErrorStyle;
  readonly defaultCountry: string;
  readonly cancelAlreadyReply: boolean;
  readonly faults = new FaultQueue();

  settings!: TenantSettings;
  balanceMicros!: bigint;
  catalog!: Catalog;
  private activations = new Map<number, SimActivation>();
  private random!: Random;
  private readonly timers = new TimerSet();
  private readonly autoSmsTimers = new Map<number, NodeJS.Timeout>();
  private readonly logger: Logger;

  constructor(
    private readonly config: TenantConfig,
    private readonly deps: TenantDeps,
  ) {
    this.id = config.id;
    this.apiKey = config.apiKey;
    this.errorStyle = config.errorStyle ?? 'classic';
    this.defaultCountry = String(config.defaultCountry ?? (this.errorStyle === 'hero' ? 6 : 0));
    this.cancelAlreadyReply = config.cancelAlreadyReply ?? false;
    this.logger = deps.logger.child({ tenant: config.id });
    this.reset();
  }

  /** Back to the configured seed: catalog, balance, settings; activations, faults and pending SMS dropped. */
  reset(): void {
    const seed = this.config.seed ?? seedFromText(this.config.id);
    this.timers.clear();
    this.autoSmsTimers.clear();
    this.faults.clear();
    this.activations = new Map();
    this.catalog = seedCatalog(seed, this.errorStyle === 'hero' ? 'herosms' : 'sms-activate');
    // A second stream for phones and codes, so buying never shifts what the catalog seeding drew.
    this.random = createRandom(seed ^ 0x5bd1e995);
    this.balanceMicros = toMicros(this.config.balanceMicros ?? DEFAULT_BALANCE_MICROS);
    this.settings = {
      lifetimeMs: this.config.lifetimeMs ?? DEFAULT_LIFETIME_MS,
      minCancelMs: this.config.minCancelMs ?? DEFAULT_MIN_CANCEL_MS,
      webhookUrl: this.config.webhookUrl ?? null,
      autoSms: this.config.autoSms ?? null,
      latencyMs: this.config.latencyMs ?? 0,
    };
  }

  dispose(): void {
    this.timers.clear();
    this.autoSmsTimers.clear();
  }

  updateSettings(patch: Partial<TenantSettings>): TenantSettings {
    this.settings = { ...this.settings, ...patch };
    return this.settings;
  }

  setBalance(micros: bigint): void {
    this.balanceMicros = micros;
  }

  setOffer(offer: Offer): Offer {
    return this.catalog.setOffer(offer);
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

    offer.stock -= 1;
    this.balanceMicros -= offer.priceMicros;
    const now = this.deps.clock.now();
    const activation: SimActivation = {
      id: this.deps.nextActivationId(),
      service,
      country: countryId,
      // A 10-digit national number after the calling code: plausible everywhere, exact nowhere.
      phone: country.dial + this.random.digits(10),
      operator: this.random.pick(OPERATORS[country.iso2] ?? ['any']),
      costMicros: offer.priceMicros,
      createdAt: now,
      expiresAt: now + this.settings.lifetimeMs,
      state: 'WAIT',
      sms: [],
      endedAt: null,
    };
    this.activations.set(activation.id, activation);
    this.maybeScheduleAutoSms(activation);
    return activation;
  }

  /** setStatus with the spec 5.2 rules; returns the reply token (ACCESS_*). */
  setStatus(id: string | undefined, status: string | undefined): string {
    const activation = this.get(id);
    const decision = decideSetStatus(activation.state, status ?? '', {
      ageMs: this.deps.clock.now() - activation.createdAt,
      minCancelMs: this.settings.minCancelMs,
      cancelAlreadyReply: this.cancelAlreadyReply,
    });
    if (!decision.ok) {
      if (decision.error === 'EARLY_CANCEL_DENIED') {
        throw new ProtocolError('EARLY_CANCEL_DENIED', undefined, { minActivationTime: Math.ceil(this.settings.minCancelMs / 1000) });
      }
      throw new ProtocolError(decision.error);
    }
    this.moveTo(activation, decision.next, decision.refund);
    if (decision.next === 'WAIT_RETRY') this.maybeScheduleAutoSms(activation);
    return decision.reply;
  }

  /** The activation a handler_api call names, settled against the clock; NO_ACTIVATION when unknown here. */
  get(id: string | undefined): SimActivation {
    const activation = id !== undefined && /^\d+$/.test(id) ? this.activations.get(Number(id)) : undefined;
    if (!activation) throw new ProtocolError('NO_ACTIVATION');
    this.settle(activation);
    return activation;
  }

  find(id: number): SimActivation | undefined {
    const activation = this.activations.get(id);
    if (activation) this.settle(activation);
    return activation;
  }

  statusToken(activation: SimActivation): string {
    return statusToken(activation.state, lastCode(activation));
  }

  /**
   * An SMS arrives (control API or autoSms). Returns null when the activation is not waiting for
   * one — ended, or holding a code nobody asked to replace.
   */
  deliverSms(id: number, sms: { code: string; text?: string }): SimActivation | null {
    const activation = this.find(id);
    if (!activation) return null;
    const next = decideSms(activation.state);
    if (!next) return null;
    const now = this.deps.clock.now();
    const text = sms.text ?? `Your ${this.catalog.services.get(activation.service)?.name ?? activation.service} code: ${sms.code}`;
    activation.sms.push({ code: sms.code, text, receivedAt: now });
    this.moveTo(activation, next, false);
    const url = this.settings.webhookUrl;
    if (url) {
      sendActivationWebhook(
        url,
        { activationId: activation.id, service: activation.service, text, code: sms.code, country: Number(activation.country), receivedAt: formatProviderTime(now) },
        this.logger,
      );
    }
    return activation;
  }

  /** Every activation, settled against the clock, oldest first. */
  list(): SimActivation[] {
    this.sweep();
    return [...this.activations.values()];
  }

  /** Not yet DONE or CANCELLED: what getActiveActivations reports. */
  active(): SimActivation[] {
    return this.list().filter((activation) => !isTerminal(activation.state));
  }

  /** Applies expiry to every running activation; called before every HTTP call to the tenant and by the periodic sweep. */
  sweep(): void {
    for (const activation of this.activations.values()) this.settle(activation);
  }

  private settle(activation: SimActivation): void {
    if (this.deps.clock.now() < activation.expiresAt) return;
    const expiry = decideExpiry(activation.state);
    if (expiry) this.moveTo(activation, expiry.next, expiry.refund, activation.expiresAt);
  }

  private moveTo(activation: SimActivation, next: ActivationState, refund: boolean, at = this.deps.clock.now()): void {
    const wasTerminal = isTerminal(activation.state);
    activation.state = next;
    if (refund) {
      this.balanceMicros += activation.costMicros;
      const offer = this.catalog.offer(activation.service, activation.country);
      if (offer) offer.stock += 1;
    }
    if (isTerminal(next) && !wasTerminal) {
      activation.endedAt = at;
      this.cancelAutoSms(activation.id);
    }
  }

  private maybeScheduleAutoSms(activation: SimActivation): void {
    const auto = this.settings.autoSms;
    if (!auto || this.random.next() >= auto.probability) return;
    const delay = this.random.int(auto.minDelayMs, Math.max(auto.minDelayMs, auto.maxDelayMs));
    const code = this.random.digits(this.random.int(5, 6));
    this.cancelAutoSms(activation.id);
    const timer = this.timers.after(delay, () => {
      this.autoSmsTimers.delete(activation.id);
      this.deliverSms(activation.id, { code });
    });
    this.autoSmsTimers.set(activation.id, timer);
  }

  private cancelAutoSms(id: number): void {
    const timer = this.autoSmsTimers.get(id);
    if (timer) this.timers.cancel(timer);
    this.autoSmsTimers.delete(id);
  }
}

export function lastCode(activation: SimActivation): string | null {
  return activation.sms.at(-1)?.code ?? null;
}

/** A decimal from the wire ("0.35"); anything unparseable counts as below every price (→ WRONG_MAX_PRICE). */
function parseAmount(text: string): bigint {
  try {
    return decimalToMicros(text);
  } catch {
    return -1n;
  }
}

function toMicros(value: bigint | number): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`balanceMicros must be an integer, got ${value}`);
  return BigInt(value);
}

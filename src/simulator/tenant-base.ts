import type { Logger } from 'pino';
import { seedCatalog, type Catalog, type CountryScheme, type Offer, type SimCountry } from './catalog';
import { formatProviderTime, type SimClock } from './clock';
import { FaultQueue } from './faults';
import { createRandom, seedFromText, type Random } from './random';
import { mismatchedCode, outagePage, ScenarioBook, type LateSms, type Scenario } from './scenarios';
import { TimerSet } from './timers';
import { sendActivationWebhook } from './webhook';

/**
 * What every simulated provider shares, whatever wire protocol it speaks: the seeded catalog,
 * the balance, the orders and their clock-driven settling, SMS delivery (control API, autoSms,
 * webhooks), scripted faults and scenarios. tenant.ts (handler_api) and fivesim/tenant.ts (5sim
 * v1) add their protocol's state machine and refusals on top.
 */
export type Protocol = 'sms-activate' | 'fivesim';

/** handler_api only. `classic`: every reply HTTP 200 with a bare token. `hero`: HeroSMS's status-coded JSON errors. */
export type ErrorStyle = 'classic' | 'hero';

export interface AutoSmsConfig {
  /** Chance, 0..1, that a bought number (or a requested retry) receives a code on its own. */
  probability: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export interface TenantConfig {
  /** URL segment: the tenant answers at `/<id>/stubs/handler_api.php`, or at `/<id>/v1/...` when it speaks 5sim. */
  id: string;
  /** handler_api `api_key`; for 5sim the bearer token (a JWT on the real service). */
  apiKey: string;
  /** Wire protocol (default `sms-activate`, the handler_api family). */
  protocol?: Protocol;
  /** handler_api only. */
  errorStyle?: ErrorStyle;
  /** Starting balance in provider-currency micros (default 1000.00). */
  balanceMicros?: bigint | number;
  /** handler_api only: country used when a getNumber call names none (default 0 classic, 6 hero: HeroSMS has no 0). */
  defaultCountry?: string | number;
  /** Default 20 min on handler_api, 15 min on 5sim (spec section 4). */
  lifetimeMs?: number;
  /** handler_api: minimum age for a cancel (default 120 s). 5sim: the `cancelLock` behind `you need to wait time` (default 0). */
  minCancelMs?: number;
  /** 5sim only: how long an order stays PENDING before it is RECEIVED (default 0: RECEIVED from the first check). */
  allocationDelayMs?: number;
  /** 5sim only: above this many calls in a rolling second, 429 `api limit is 100 requests per second` (default: no limit). */
  rateLimitPerSecond?: number | null;
  /** 5sim only: answer counts and ids as strings where real replies have been seen doing so (spec 5.3). */
  looseNumbers?: boolean;
  webhookUrl?: string | null;
  autoSms?: AutoSmsConfig | null;
  /** Catalog seed; derived from the id when absent, so tenants differ by default. */
  seed?: number;
  /**
   * Seed of what happens after a sale: phone numbers, codes, which numbers get an automatic SMS
   * and when. Derived from `seed` when absent, so a test replays exactly; a demo passes a fresh
   * one per start, or the same numbers get (and miss) their SMS after every restart.
   */
  eventSeed?: number;
  /** handler_api clone behaviour: a repeated cancel answers ACCESS_CANCEL_ALREADY instead of BAD_STATUS. */
  cancelAlreadyReply?: boolean;
  /** Added to every call, for demos of a slow provider. */
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
  /** 5sim only (see TenantConfig); read at each settle, so a change applies to running orders. */
  allocationDelayMs: number;
  /** 5sim only; null = no limit. */
  rateLimitPerSecond: number | null;
}

export interface SimSms {
  code: string;
  text: string;
  receivedAt: number;
}

/** One bought number, in either protocol; `state` is the protocol's own (handler_api WAIT…, 5sim PENDING…). */
export interface SimOrder<S extends string = string> {
  readonly id: number;
  /** The tenant's own codes: `tg` and `6` on handler_api, `telegram` and `england` on 5sim. */
  readonly service: string;
  readonly country: string;
  /** Digits with country code, no `+` (handler_api sends it so; 5sim adds the `+`). */
  readonly phone: string;
  readonly operator: string;
  readonly costMicros: bigint;
  readonly createdAt: number;
  readonly expiresAt: number;
  state: S;
  readonly sms: SimSms[];
  /** SMS that arrived after the order ended (scenario `sms-after-expiry`): recorded, never shown by the protocol. */
  readonly lateSms: SimSms[];
  endedAt: number | null;
}

export interface TenantDeps {
  clock: SimClock;
  nextActivationId: () => number;
  logger: Logger;
}

/** What a protocol fixes about a tenant before any configuration applies. */
export interface ProtocolProfile {
  protocol: Protocol;
  scheme: CountryScheme;
  lifetimeMs: number;
  minCancelMs: number;
}

export const DEFAULT_BALANCE_MICROS = 1_000_000_000n;

export type ScenarioResult = { ok: true } | { ok: false; code: 'UNKNOWN_ACTIVATION'; message: string };

export abstract class TenantBase<A extends SimOrder> {
  readonly id: string;
  readonly apiKey: string;
  readonly protocol: Protocol;
  readonly faults = new FaultQueue();
  readonly scenarios = new ScenarioBook();

  settings!: TenantSettings;
  balanceMicros!: bigint;
  catalog!: Catalog;
  protected orders = new Map<number, A>();
  protected random!: Random;
  protected readonly logger: Logger;
  private readonly scheme: CountryScheme;
  private readonly profile: ProtocolProfile;
  private readonly timers = new TimerSet();
  private readonly autoSmsTimers = new Map<number, NodeJS.Timeout>();
  /** Real-time (not simulated) arrival times of recent calls, for the rate limit. */
  private callTimes: number[] = [];

  constructor(
    protected readonly config: TenantConfig,
    protected readonly deps: TenantDeps,
    profile: ProtocolProfile,
  ) {
    this.id = config.id;
    this.apiKey = config.apiKey;
    this.protocol = profile.protocol;
    this.scheme = profile.scheme;
    this.profile = profile;
    this.logger = deps.logger.child({ tenant: config.id });
    this.reset();
  }

  /** Back to the configured seed: catalog, balance, settings; orders, faults, scenarios and pending SMS dropped. */
  reset(): void {
    const seed = this.config.seed ?? seedFromText(this.config.id);
    this.timers.clear();
    this.autoSmsTimers.clear();
    this.faults.clear();
    this.scenarios.clear();
    this.callTimes = [];
    this.orders = new Map();
    this.catalog = seedCatalog(seed, this.scheme);
    // A second stream for phones and codes, so buying never shifts what the catalog seeding drew.
    this.random = createRandom(this.config.eventSeed ?? seed ^ 0x5bd1e995);
    this.balanceMicros = toMicros(this.config.balanceMicros ?? DEFAULT_BALANCE_MICROS);
    this.settings = {
      lifetimeMs: this.config.lifetimeMs ?? this.profile.lifetimeMs,
      minCancelMs: this.config.minCancelMs ?? this.profile.minCancelMs,
      webhookUrl: this.config.webhookUrl ?? null,
      autoSms: this.config.autoSms ?? null,
      latencyMs: this.config.latencyMs ?? 0,
      allocationDelayMs: this.config.allocationDelayMs ?? 0,
      rateLimitPerSecond: this.config.rateLimitPerSecond ?? null,
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

  /** The order with this id, settled against the clock. */
  find(id: number): A | undefined {
    const order = this.orders.get(id);
    if (order) this.settle(order);
    return order;
  }

  /** Every order, settled against the clock, oldest first. */
  list(): A[] {
    this.sweep();
    return [...this.orders.values()];
  }

  /** Orders that have not ended. */
  active(): A[] {
    return this.list().filter((order) => !this.isTerminal(order.state));
  }

  /** Applies the clock to every order; called before every protocol call to the tenant and by the periodic sweep. */
  sweep(): void {
    for (const order of this.orders.values()) this.settle(order);
  }

  /**
   * Counts one call against `rateLimitPerSecond` (real time, not the control clock, which tests
   * freeze); false when the call is over the limit.
   */
  admitCall(nowMs = performance.now()): boolean {
    const limit = this.settings.rateLimitPerSecond;
    if (limit === null) return true;
    this.callTimes = this.callTimes.filter((at) => nowMs - at < 1000);
    if (this.callTimes.length >= limit) return false;
    this.callTimes.push(nowMs);
    return true;
  }

  /**
   * An SMS arrives (control API or autoSms). Returns null when the order is not waiting for one.
   * A `wrong-code` scenario may replace the parsed code; the text keeps the real one.
   */
  deliverSms(id: number, sms: { code: string; text?: string }): A | null {
    const order = this.find(id);
    if (!order || !this.acceptsSms(order)) return null;
    const now = this.deps.clock.now();
    const text = sms.text ?? this.smsText(order, sms.code);
    const wrong = this.scenarios.takeWrongCode();
    const code = wrong === 'empty' ? '' : wrong === 'mismatch' ? mismatchedCode(sms.code) : sms.code;
    order.sms.push({ code, text, receivedAt: now });
    this.smsArrived(order);
    this.postWebhook(order, code, text, now);
    return order;
  }

  /** Scenario `sms-after-expiry` on one order: recorded on the order and posted to the webhook, nothing else changes. */
  deliverLateSms(order: A, late: LateSms): SimSms {
    const now = this.deps.clock.now();
    const code = late.code ?? this.random.digits(5);
    const sms = { code, text: late.text ?? this.smsText(order, code), receivedAt: now };
    order.lateSms.push(sms);
    this.logger.debug({ id: order.id, state: order.state }, 'late SMS');
    this.postWebhook(order, sms.code, sms.text, now);
    return sms;
  }

  /** Applies a scripted scenario (documented in scenarios.ts). */
  applyScenario(scenario: Scenario): ScenarioResult {
    switch (scenario.name) {
      case 'stock-runs-out':
        if (scenario.afterPurchases === 0) this.emptyStock(scenario);
        else this.scenarios.armStockRunsOut({ remaining: scenario.afterPurchases, service: scenario.service, country: scenario.country });
        return { ok: true };
      case 'latency':
        this.updateSettings({ latencyMs: scenario.ms });
        return { ok: true };
      case '5xx-burst':
        this.faults.add({ action: scenario.action, times: scenario.calls, reply: { status: scenario.status, body: outagePage(scenario.status) } });
        return { ok: true };
      case 'timeouts':
        this.faults.add({ action: scenario.action, times: scenario.calls, reply: { hangUpAfterMs: scenario.hangMs } });
        return { ok: true };
      case 'sms-after-expiry': {
        const late = { code: scenario.code, text: scenario.text };
        if (scenario.activationId === undefined) {
          this.scenarios.armLateSms(late, scenario.times);
          return { ok: true };
        }
        const order = this.find(scenario.activationId);
        if (!order) return { ok: false, code: 'UNKNOWN_ACTIVATION', message: `no activation ${scenario.activationId} at ${this.id}` };
        if (this.isTerminal(order.state)) this.deliverLateSms(order, late);
        else this.scenarios.armLateSmsFor(order.id, late);
        return { ok: true };
      }
      case 'wrong-code':
        this.scenarios.armWrongCode(scenario.mode, scenario.times);
        return { ok: true };
    }
  }

  /** Whether this protocol state has ended (no SMS, no action will change it again). */
  abstract isTerminal(state: A['state']): boolean;
  /** Whether an SMS arriving now would be shown to the client. */
  protected abstract acceptsSms(order: A): boolean;
  /** The protocol's move after an SMS was appended. */
  protected abstract smsArrived(order: A): void;
  /** Applies what the clock has done to one order (allocation, expiry). */
  protected abstract settle(order: A): void;
  /** The offer an order was bought from (stock returns there on a refund). */
  protected abstract offerOf(order: A): Offer | undefined;
  /** `country` of the SMS-Activate webhook body for this order. */
  protected abstract webhookCountry(order: A): number | string;

  protected now(): number {
    return this.deps.clock.now();
  }

  protected nextId(): number {
    return this.deps.nextActivationId();
  }

  /** A 10-digit national number after the calling code: plausible everywhere, exact nowhere. */
  protected newPhone(country: SimCountry): string {
    return country.dial + this.random.digits(10);
  }

  /** Books a sale: stock and balance move, the order is stored, scenarios and autoSms see it. */
  protected record(order: A, offer: Offer): A {
    offer.stock -= 1;
    this.balanceMicros -= order.costMicros;
    this.orders.set(order.id, order);
    for (const filter of this.scenarios.purchased(order.service, order.country)) this.emptyStock(filter);
    this.maybeScheduleAutoSms(order);
    return order;
  }

  /**
   * Moves an order to a new state. A refund returns the price to the balance and, unless
   * `restock` is false (a banned number), the number to stock. Ending without a code is when an
   * armed `sms-after-expiry` fires.
   */
  protected moveTo(order: A, next: A['state'], money: { refund: boolean; restock?: boolean }, at = this.now()): void {
    const wasTerminal = this.isTerminal(order.state);
    order.state = next;
    if (money.refund) {
      this.balanceMicros += order.costMicros;
      const offer = money.restock === false ? undefined : this.offerOf(order);
      if (offer) offer.stock += 1;
    }
    if (this.isTerminal(next) && !wasTerminal) {
      order.endedAt = at;
      this.cancelAutoSms(order.id);
      const late = money.refund ? this.scenarios.takeLateSms(order.id) : undefined;
      if (late) this.deliverLateSms(order, late);
    }
  }

  protected maybeScheduleAutoSms(order: A): void {
    const auto = this.settings.autoSms;
    if (!auto || this.random.next() >= auto.probability) return;
    const delay = this.random.int(auto.minDelayMs, Math.max(auto.minDelayMs, auto.maxDelayMs));
    const code = this.random.digits(this.random.int(5, 6));
    this.cancelAutoSms(order.id);
    const timer = this.timers.after(delay, () => {
      this.autoSmsTimers.delete(order.id);
      this.deliverSms(order.id, { code });
    });
    this.autoSmsTimers.set(order.id, timer);
  }

  private cancelAutoSms(id: number): void {
    const timer = this.autoSmsTimers.get(id);
    if (timer) this.timers.cancel(timer);
    this.autoSmsTimers.delete(id);
  }

  private smsText(order: A, code: string): string {
    return `Your ${this.catalog.services.get(order.service)?.name ?? order.service} code: ${code}`;
  }

  private emptyStock(filter: { service?: string; country?: string }): void {
    for (const offer of this.catalog.listOffers(filter)) offer.stock = 0;
  }

  private postWebhook(order: A, code: string, text: string, at: number): void {
    const url = this.settings.webhookUrl;
    if (!url) return;
    sendActivationWebhook(
      url,
      { activationId: order.id, service: order.service, text, code, country: this.webhookCountry(order), receivedAt: formatProviderTime(at) },
      this.logger,
    );
  }
}

function toMicros(value: bigint | number): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`balanceMicros must be an integer, got ${value}`);
  return BigInt(value);
}

import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import type { HealthSettings } from '../config/app.config';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { ProviderError, type ProviderAdapter, type ProviderErrorKind } from './types';

export type { HealthSettings };

/**
 * Provider health in Redis, shared by the API and every worker (DESIGN.md "Providers"):
 *
 * - call outcomes per provider in one-minute buckets (ok / failed / latency histogram), kept for
 *   `callWindowMinutes`: error rate, call count and an approximate p50 latency;
 * - purchases and first SMS per provider × service × country in one-hour buckets, kept for
 *   `routeWindowHours`: the success rate (SMS received ÷ numbers bought), smoothed by a prior so a
 *   new route starts at `successPrior` rather than at 0 or 1;
 * - a circuit breaker per provider: closed → open when, since the breaker last changed state,
 *   the error rate over the window exceeds `errorRateThreshold` with at least `minCalls` calls, or
 *   after `consecutiveFailures` health failures in a row; open for `cooldownMs`; then half-open:
 *   one probe at a time (SET NX), closed by a success, re-opened by a failure.
 *
 * Only TRANSIENT errors (network, timeouts, 5xx, garbage) and unknown errors are health failures:
 * NO_NUMBERS, REJECTED and the other refusals prove the provider is up. Every write is O(1)
 * (a Lua script over a fixed number of keys); reads take one round trip. Times come from the
 * injected `now` (tests pass a controllable clock); only the probe slot's safety TTL, which
 * frees a slot whose holder died, runs on Redis's own clock.
 */

export const DEFAULT_HEALTH_SETTINGS: Readonly<HealthSettings> = Object.freeze({
  keyPrefix: 'simgate:health:',
  callWindowMinutes: 10,
  routeWindowHours: 24,
  minCalls: 20,
  errorRateThreshold: 0.5,
  consecutiveFailures: 5,
  cooldownMs: 30_000,
  probeTimeoutMs: 30_000,
  successPrior: 0.8,
  priorWeight: 5,
});

export interface CallOutcome {
  ok: boolean;
  latencyMs: number;
  /** The ProviderError kind of a failed call; absent for an error that is not a ProviderError. */
  kind?: ProviderErrorKind;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface HealthSnapshot {
  providerId: string;
  serviceCode: string;
  countryIso: string;
  breaker: BreakerState;
  /** The breaker lets a purchase through: closed, or half-open with the probe slot free. */
  available: boolean;
  /** Calls in the window, and how many were health failures. */
  callCount: number;
  errorCount: number;
  /** errorCount ÷ callCount, 0 without calls. */
  errorRate: number;
  /** Upper bound of the latency bucket holding the median call, null without calls. */
  p50LatencyMs: number | null;
  /** Numbers bought and first SMS received on this route in the window. */
  purchases: number;
  smsReceived: number;
  /** (SMS + prior × weight) ÷ (purchases + weight), in 0..1 … */
  successRate: number;
  /** … and the same in parts per million, an integer for money-path comparisons (routing.ts). */
  successPpm: number;
}

/** Is this outcome evidence that the provider is unwell? Refusals are answers, not failures. */
export function isHealthFailure(outcome: Pick<CallOutcome, 'ok' | 'kind'>): boolean {
  return !outcome.ok && (outcome.kind === undefined || outcome.kind === 'TRANSIENT');
}

/** Latency histogram bucket upper bounds (ms); a call slower than the last lands in the overflow bucket. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200] as const;

export function latencyBucket(latencyMs: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BUCKETS_MS.length : index;
}

/** Upper bound of histogram bucket `index`; the overflow bucket reports twice the last bound. */
export function bucketUpperBound(index: number): number {
  const last = LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
  return index < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[index] : last * 2;
}

/** Median of a latency histogram (counts by bucket index), as its bucket's upper bound. */
export function histogramP50(counts: readonly number[]): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i += 1) {
    seen += counts[i] ?? 0;
    if (seen * 2 >= total) return bucketUpperBound(i);
  }
  return bucketUpperBound(counts.length - 1);
}

/** Success rate in ppm with the prior: integer arithmetic only. */
export function successPpm(purchases: number, smsReceived: number, settings: Pick<HealthSettings, 'successPrior' | 'priorWeight'>): number {
  const sms = Math.min(smsReceived, purchases);
  const priorPpm = Math.round(settings.successPrior * 1_000_000);
  const weight = Math.max(0, Math.round(settings.priorWeight));
  if (purchases + weight === 0) return priorPpm;
  return Math.floor((sms * 1_000_000 + priorPpm * weight) / (purchases + weight));
}

/**
 * One call's outcome: bucket counters, then the breaker. KEYS[1] is the provider's key base
 * (`<prefix>{<provider>}:`, one hash slot per provider). Returns { state, changed }.
 * Window counters carry the breaker's epoch (bumped on every open and close), so a breaker that
 * just closed judges only calls made since.
 */
const RECORD_CALL_LUA = `
local base = KEYS[1]
local now = tonumber(ARGV[1])
local failure = ARGV[2] == '1'
local lat = ARGV[3]
local window = tonumber(ARGV[4])
local minCalls = tonumber(ARGV[5])
local thresholdPpm = tonumber(ARGV[6])
local maxConsecutive = tonumber(ARGV[7])
local cooldown = tonumber(ARGV[8])
local ttl = tonumber(ARGV[9])
local minute = math.floor(now / 60000)
local cbKey = base .. 'cb'
local cb = redis.call('HMGET', cbKey, 'state', 'openUntil', 'epoch', 'consecutive')
local state = cb[1] or 'closed'
local openUntil = tonumber(cb[2] or '0')
local epoch = tonumber(cb[3] or '0')
local consecutive = tonumber(cb[4] or '0')

local mKey = base .. 'm:' .. minute
redis.call('HINCRBY', mKey, failure and 'fail' or 'ok', 1)
if lat ~= '' then redis.call('HINCRBY', mKey, 'l' .. lat, 1) end
redis.call('HINCRBY', mKey, (failure and 'f:' or 'o:') .. epoch, 1)
redis.call('EXPIRE', mKey, ttl)

local function open()
  redis.call('HSET', cbKey, 'state', 'open', 'openUntil', string.format('%d', now + cooldown), 'epoch', epoch + 1, 'consecutive', 0, 'changedAt', string.format('%d', now))
  redis.call('HINCRBY', cbKey, 'opened', 1)
  redis.call('DEL', base .. 'probe')
  return {'open', 1}
end

if state == 'open' then
  -- Before the cool-down ends, outcomes (calls already in flight, status polls) are only counted.
  if now < openUntil then return {'open', 0} end
  -- Half-open: the probe's verdict (or any call's: a success anywhere proves the provider is back).
  if failure then return open() end
  redis.call('HSET', cbKey, 'state', 'closed', 'openUntil', 0, 'epoch', epoch + 1, 'consecutive', 0, 'changedAt', string.format('%d', now))
  redis.call('DEL', base .. 'probe')
  return {'closed', 1}
end

if not failure then
  if consecutive ~= 0 then redis.call('HSET', cbKey, 'consecutive', 0) end
  return {'closed', 0}
end
consecutive = consecutive + 1
if consecutive >= maxConsecutive then return open() end
redis.call('HSET', cbKey, 'consecutive', consecutive)
local calls, fails = 0, 0
local okField, failField = 'o:' .. epoch, 'f:' .. epoch
for i = 0, window - 1 do
  local v = redis.call('HMGET', base .. 'm:' .. (minute - i), okField, failField)
  local f = tonumber(v[2] or '0')
  calls = calls + tonumber(v[1] or '0') + f
  fails = fails + f
end
if calls >= minCalls and fails * 1000000 > thresholdPpm * calls then return open() end
return {'closed', 0}
`;

/** Closed: go. Open: no. Half-open: take the single probe slot if it is free. 1 = go. */
const ACQUIRE_LUA = `
local base = KEYS[1]
local now = tonumber(ARGV[1])
local cb = redis.call('HMGET', base .. 'cb', 'state', 'openUntil')
if (cb[1] or 'closed') ~= 'open' then return 1 end
if now < tonumber(cb[2] or '0') then return 0 end
if redis.call('SET', base .. 'probe', ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
`;

/**
 * One provider's health for one route, summed in Redis: the breaker's state and deadline, whether
 * the probe slot is taken, purchases and first SMS over the route window, then ok, fail and the
 * latency histogram over the call window. KEYS[1] is the key base, as for RECORD_CALL_LUA. One
 * command per provider where reading the buckets from here took 2 + minutes + hours.
 */
const READ_ROUTE_HEALTH_LUA = `
local base = KEYS[1]
local minute, hour = tonumber(ARGV[1]), tonumber(ARGV[2])
local minutes, hours = tonumber(ARGV[3]), tonumber(ARGV[4])
local boughtField, smsField = ARGV[5], ARGV[6]
local latencyBuckets = tonumber(ARGV[7])
local cb = redis.call('HMGET', base .. 'cb', 'state', 'openUntil')
local probe = redis.call('EXISTS', base .. 'probe')
local bought, sms = 0, 0
for i = 0, hours - 1 do
  local v = redis.call('HMGET', base .. 'r:' .. (hour - i), boughtField, smsField)
  bought = bought + tonumber(v[1] or '0')
  sms = sms + tonumber(v[2] or '0')
end
local fields = {'ok', 'fail'}
for b = 0, latencyBuckets - 1 do fields[#fields + 1] = 'l' .. b end
local calls = {}
for j = 1, #fields do calls[j] = 0 end
for i = 0, minutes - 1 do
  local v = redis.call('HMGET', base .. 'm:' .. (minute - i), unpack(fields))
  for j = 1, #fields do calls[j] = calls[j] + tonumber(v[j] or '0') end
end
return {cb[1], cb[2], probe, bought, sms, unpack(calls)}
`;

interface HealthRedis extends Redis {
  simgateHealthRecordCall(base: string, ...args: (string | number)[]): Promise<[string, number]>;
  simgateHealthAcquire(base: string, ...args: (string | number)[]): Promise<number>;
  simgateHealthReadRoute(base: string, ...args: (string | number)[]): Promise<RouteHealthReply>;
}

/** READ_ROUTE_HEALTH_LUA's reply: state, openUntil, probe, purchases, sms, ok, fail, latency counts. */
type RouteHealthReply = [string | null, string | null, number, number, number, number, number, ...number[]];

export interface ProviderHealthOptions extends Partial<HealthSettings> {
  redis: Redis;
  now?: () => number;
}

export class ProviderHealth {
  readonly settings: Readonly<HealthSettings>;
  private readonly redis: HealthRedis;
  private readonly now: () => number;

  constructor(options: ProviderHealthOptions) {
    const { redis, now, ...overrides } = options;
    this.settings = Object.freeze({ ...DEFAULT_HEALTH_SETTINGS, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) });
    this.redis = redis as HealthRedis;
    this.now = now ?? Date.now;
    // defineCommand is idempotent per name: EVALSHA with a fallback to EVAL after a SCRIPT FLUSH.
    if (typeof this.redis.simgateHealthRecordCall !== 'function') this.redis.defineCommand('simgateHealthRecordCall', { numberOfKeys: 1, lua: RECORD_CALL_LUA });
    if (typeof this.redis.simgateHealthAcquire !== 'function') this.redis.defineCommand('simgateHealthAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    if (typeof this.redis.simgateHealthReadRoute !== 'function') this.redis.defineCommand('simgateHealthReadRoute', { numberOfKeys: 1, lua: READ_ROUTE_HEALTH_LUA });
  }

  /** `<prefix>{<provider>}:` — the hash tag keeps one provider's keys in one cluster slot. */
  private base(providerId: string): string {
    return `${this.settings.keyPrefix}{${providerId}}:`;
  }

  private minute(): number {
    return Math.floor(this.now() / 60_000);
  }

  private hour(): number {
    return Math.floor(this.now() / 3_600_000);
  }

  /** Records one call and returns the breaker's state after it, and whether this call changed it. */
  async recordCall(providerId: string, outcome: CallOutcome): Promise<{ state: 'open' | 'closed'; changed: boolean }> {
    const s = this.settings;
    const [state, changed] = await this.redis.simgateHealthRecordCall(
      this.base(providerId),
      this.now(),
      isHealthFailure(outcome) ? '1' : '0',
      Number.isFinite(outcome.latencyMs) && outcome.latencyMs >= 0 ? String(latencyBucket(outcome.latencyMs)) : '',
      s.callWindowMinutes,
      s.minCalls,
      Math.round(s.errorRateThreshold * 1_000_000),
      s.consecutiveFailures,
      s.cooldownMs,
      (s.callWindowMinutes + 2) * 60,
    );
    return { state: state === 'open' ? 'open' : 'closed', changed: changed === 1 };
  }

  /**
   * A number bought on this route. `dedupeKey` (e.g. the activation id) makes the call
   * idempotent, for activities that may be retried; returns false when it was already counted.
   */
  async recordPurchase(providerId: string, serviceCode: string, countryIso: string, options: { dedupeKey?: string } = {}): Promise<boolean> {
    return this.recordRoute('b', providerId, serviceCode, countryIso, options.dedupeKey);
  }

  /** The first SMS of a bought number arrived (call once per number; `dedupeKey` as above). */
  async recordSmsReceived(providerId: string, serviceCode: string, countryIso: string, options: { dedupeKey?: string } = {}): Promise<boolean> {
    return this.recordRoute('s', providerId, serviceCode, countryIso, options.dedupeKey);
  }

  private async recordRoute(kind: 'b' | 's', providerId: string, serviceCode: string, countryIso: string, dedupeKey?: string): Promise<boolean> {
    const base = this.base(providerId);
    const ttlSeconds = (this.settings.routeWindowHours + 1) * 3600;
    if (dedupeKey !== undefined) {
      const first = await this.redis.set(`${base}seen:${kind}:${dedupeKey}`, '1', 'EX', ttlSeconds, 'NX');
      if (first === null) return false;
    }
    const key = `${base}r:${this.hour()}`;
    await this.redis.multi().hincrby(key, routeField(kind, serviceCode, countryIso), 1).expire(key, ttlSeconds).exec();
    return true;
  }

  /** Breaker state by our clock: open until the cool-down ends, half-open after, until a verdict. */
  async state(providerId: string): Promise<BreakerState> {
    const [state, openUntil] = await this.redis.hmget(`${this.base(providerId)}cb`, 'state', 'openUntil');
    return this.breakerState(state, openUntil);
  }

  private breakerState(state: string | null, openUntil: string | null): BreakerState {
    if (state !== 'open') return 'closed';
    return this.now() < Number(openUntil ?? 0) ? 'open' : 'half-open';
  }

  /** Would a purchase be let through now? Read-only: it does not take the half-open probe slot (acquire() does). */
  async isAvailable(providerId: string): Promise<boolean> {
    const base = this.base(providerId);
    const [[, cb], [, probe]] = (await this.redis.multi().hmget(`${base}cb`, 'state', 'openUntil').exists(`${base}probe`).exec()) as [
      [Error | null, (string | null)[]],
      [Error | null, number],
    ];
    const state = this.breakerState(cb[0], cb[1]);
    return state === 'closed' || (state === 'half-open' && probe === 0);
  }

  /**
   * Call right before a gated call (a purchase): true when closed; false when open; when
   * half-open, true for exactly one caller at a time (the probe), whose recorded outcome then
   * closes or re-opens the breaker.
   */
  async acquire(providerId: string): Promise<boolean> {
    const token = `${process.pid}:${this.now()}:${Math.random().toString(36).slice(2)}`;
    return (await this.redis.simgateHealthAcquire(this.base(providerId), this.now(), token, this.settings.probeTimeoutMs)) === 1;
  }

  /** Closes the breaker and forgets its counters (an admin's "I fixed it"); call statistics stay. */
  async reset(providerId: string): Promise<void> {
    const base = this.base(providerId);
    const [epoch] = await this.redis.hmget(`${base}cb`, 'epoch');
    await this.redis
      .multi()
      .hset(`${base}cb`, 'state', 'closed', 'openUntil', '0', 'epoch', String(Number(epoch ?? 0) + 1), 'consecutive', '0', 'changedAt', String(this.now()))
      .del(`${base}probe`)
      .exec();
  }

  /**
   * Purchases and first SMS of many routes over the route window, summed over `providerIds`, in
   * one round trip (one HMGET per provider and hour): the success rate shown next to an offer.
   * Raw counts, without routing's prior: a customer is told what happened, and how often.
   */
  async routeDelivery(providerIds: readonly string[], routes: readonly { serviceCode: string; countryIso: string }[]): Promise<Map<string, RouteDelivery>> {
    const result = new Map<string, RouteDelivery>();
    const unique = [...new Map(routes.map((r) => [routeKey(r.serviceCode, r.countryIso), r])).values()];
    for (const r of unique) result.set(routeKey(r.serviceCode, r.countryIso), { purchases: 0, smsReceived: 0 });
    const ids = [...new Set(providerIds)];
    if (unique.length === 0 || ids.length === 0) return result;
    const hour = this.hour();
    const fields = unique.flatMap((r) => [routeField('b', r.serviceCode, r.countryIso), routeField('s', r.serviceCode, r.countryIso)]);
    const pipeline = this.redis.pipeline();
    for (const id of ids) for (let i = 0; i < this.settings.routeWindowHours; i += 1) pipeline.hmget(`${this.base(id)}r:${hour - i}`, ...fields);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    for (const [, value] of replies) {
      const counts = value as (string | null)[];
      unique.forEach((r, n) => {
        const totals = result.get(routeKey(r.serviceCode, r.countryIso))!;
        totals.purchases += Number(counts[2 * n] ?? 0);
        totals.smsReceived += Number(counts[2 * n + 1] ?? 0);
      });
    }
    // An SMS counted in an hour whose purchase fell out of the window must not make more than 100 %.
    for (const totals of result.values()) totals.smsReceived = Math.min(totals.smsReceived, totals.purchases);
    return result;
  }

  async snapshot(providerId: string, serviceCode: string, countryIso: string): Promise<HealthSnapshot> {
    return (await this.routeHealth([providerId], serviceCode, countryIso)).get(providerId)!;
  }

  /** Snapshots of several providers for one route, in one round trip: what CatalogService.quote hands to rankCandidates. */
  async routeHealth(providerIds: readonly string[], serviceCode: string, countryIso: string): Promise<Map<string, HealthSnapshot>> {
    const s = this.settings;
    const ids = [...new Set(providerIds)];
    const args = [this.minute(), this.hour(), s.callWindowMinutes, s.routeWindowHours, routeField('b', serviceCode, countryIso), routeField('s', serviceCode, countryIso), LATENCY_BUCKETS_MS.length + 1];
    // Custom commands are on pipelines too (defineCommand); ioredis's pipeline type does not list them.
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & Pick<HealthRedis, 'simgateHealthReadRoute'>;
    for (const id of ids) pipeline.simgateHealthReadRoute(this.base(id), ...args);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const result = new Map<string, HealthSnapshot>();
    ids.forEach((id, n) => {
      const [state, openUntil, probe, purchases, sms, ok, fail, ...latency] = replies[n][1] as RouteHealthReply;
      const breaker = this.breakerState(state, openUntil);
      const ppm = successPpm(purchases, sms, s);
      result.set(id, {
        providerId: id,
        serviceCode,
        countryIso,
        breaker,
        available: breaker === 'closed' || (breaker === 'half-open' && probe === 0),
        callCount: ok + fail,
        errorCount: fail,
        errorRate: ok + fail === 0 ? 0 : fail / (ok + fail),
        p50LatencyMs: histogramP50(latency),
        purchases,
        smsReceived: sms,
        successRate: ppm / 1_000_000,
        successPpm: ppm,
      });
    });
    return result;
  }
}

/** What customers see of a route (service × country, every provider together): numbers bought and first SMS received. */
export interface RouteDelivery {
  purchases: number;
  smsReceived: number;
}

export const routeKey = (serviceCode: string, countryIso: string) => `${serviceCode}|${countryIso.toUpperCase()}`;

function routeField(kind: 'b' | 's', serviceCode: string, countryIso: string): string {
  return `${kind}:${serviceCode}:${countryIso.toUpperCase()}`;
}

/** Token of the ProviderError thrown instead of calling a provider whose breaker is open. */
export const CIRCUIT_OPEN = 'CIRCUIT_OPEN';

export interface WithHealthOptions {
  /** Calls the breaker gates (default: buy). Status polls, cancels and finishes always go through: money depends on them. */
  gate?: ReadonlyArray<Exclude<keyof ProviderAdapter, 'id'>>;
  logger?: Logger;
}

/**
 * The adapter, timed and recorded: every call's outcome goes to `health.recordCall`, and gated
 * calls (buy) first ask the breaker (`acquire`). A refused call throws
 * ProviderError('NO_NUMBERS', 'CIRCUIT_OPEN'): "this provider cannot sell now, try the next",
 * which the activation workflow already does, without retrying. Health bookkeeping never breaks
 * a call: if Redis fails, the call goes ahead (fail open) and the failure is logged.
 */
export function withHealth(adapter: ProviderAdapter, health: ProviderHealth, options: WithHealthOptions = {}): ProviderAdapter {
  const gated = new Set<string>(options.gate ?? ['buy']);
  const log = options.logger;
  const run = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    if (gated.has(action)) {
      const allowed = await health.acquire(adapter.id).catch((error: unknown) => {
        log?.warn({ err: error, provider: adapter.id }, 'provider health unavailable; calling anyway');
        return true;
      });
      if (!allowed) throw new ProviderError('NO_NUMBERS', CIRCUIT_OPEN, `${adapter.id} ${action}: circuit open, provider skipped`);
    }
    const started = performance.now();
    const record = async (outcome: Omit<CallOutcome, 'latencyMs'>) => {
      const latencyMs = performance.now() - started;
      metrics.providerCall(adapter.id, action, { ...outcome, healthFailure: isHealthFailure(outcome) }, latencyMs);
      try {
        const { state, changed } = await health.recordCall(adapter.id, { ...outcome, latencyMs });
        if (changed) metrics.breakerChanged(adapter.id, state);
        if (changed) log?.warn({ provider: adapter.id, breaker: state, action }, state === 'open' ? 'provider circuit opened' : 'provider circuit closed');
      } catch (error) {
        log?.warn({ err: error, provider: adapter.id }, 'could not record provider health');
      }
    };
    let result: T;
    try {
      result = await call();
    } catch (error) {
      await record({ ok: false, kind: error instanceof ProviderError ? error.kind : undefined });
      throw error;
    }
    await record({ ok: true });
    return result;
  };
  return {
    id: adapter.id,
    buy: (request) => run('buy', () => adapter.buy(request)),
    getStatus: (upstreamId) => run('getStatus', () => adapter.getStatus(upstreamId)),
    cancel: (upstreamId) => run('cancel', () => adapter.cancel(upstreamId)),
    finish: (upstreamId) => run('finish', () => adapter.finish(upstreamId)),
    requestAnotherSms: (upstreamId) => run('requestAnotherSms', () => adapter.requestAnotherSms(upstreamId)),
    getPrices: (filter) => run('getPrices', () => adapter.getPrices(filter)),
    getBalance: () => run('getBalance', () => adapter.getBalance()),
    getActiveActivations: () => run('getActiveActivations', () => adapter.getActiveActivations()),
    getOpenSales: () => run('getOpenSales', () => adapter.getOpenSales()),
  };
}

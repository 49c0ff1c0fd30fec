/**
 * Routing order: which provider to try first for one purchase. Pure (no I/O) so it is tested
 * case by case (test/unit/routing.test.ts); the caller brings health snapshots
 * (ProviderHealth.routeHealth) for the route being bought.
 *
 * Order by the expected cost of a *successful* activation: sell price ÷ success rate. A $0.10
 * number that delivers an SMS half the time costs the customer's patience (and us a refund)
 * more than a $0.15 one that delivers 95% of the time: 0.10/0.5 = 0.20 > 0.15/0.95 ≈ 0.158.
 * Integer math only (DESIGN.md "Money"): a.sell × b.ppm against b.sell × a.ppm, in bigint.
 */

/** What routing needs from a provider's health on this route (a subset of HealthSnapshot). */
export interface RoutingHealth {
  /** False when the provider's circuit breaker is open (or half-open with its probe taken). */
  available: boolean;
  /** Success rate in parts per million (SMS received ÷ numbers bought, with a prior). */
  successPpm: number;
  /** Recent error rate, 0..1: a tie-breaker only. */
  errorRate: number;
}

export interface RoutingCandidate {
  providerId: string;
  /** Sell price in micro-dollars (decimal string, as on PurchaseCandidate, or bigint). */
  sellMicros: string | bigint;
}

export interface RankOptions {
  /** The customer's ceiling in micro-dollars; null/undefined = no ceiling. */
  maxPriceMicros?: bigint | string | null;
  /** Health of a provider missing from the map: available, this success rate (default 800 000 = 80 %), no errors. */
  defaultSuccessPpm?: number;
}

export type SkipReason = 'CIRCUIT_OPEN' | 'ABOVE_MAX_PRICE';

export interface Routing<T> {
  /** Candidates to try, best first. */
  ranked: T[];
  skipped: { candidate: T; reason: SkipReason }[];
}

const PPM = 1_000_000;
export const DEFAULT_SUCCESS_PPM = 800_000;

type HealthLookup = ReadonlyMap<string, RoutingHealth> | Readonly<Record<string, RoutingHealth>>;

function lookup(health: HealthLookup, providerId: string): RoutingHealth | undefined {
  return health instanceof Map ? health.get(providerId) : (health as Record<string, RoutingHealth>)[providerId];
}

/** Ranked candidates plus those left out and why (for logs and for telling "all down" from "too expensive"). */
export function routeCandidates<T extends RoutingCandidate>(candidates: readonly T[], healthByProvider: HealthLookup, options: RankOptions = {}): Routing<T> {
  const ceiling = options.maxPriceMicros == null ? null : BigInt(options.maxPriceMicros);
  const fallbackPpm = options.defaultSuccessPpm ?? DEFAULT_SUCCESS_PPM;
  const skipped: Routing<T>['skipped'] = [];
  const kept: { candidate: T; sell: bigint; ppm: bigint; errorRate: number; index: number }[] = [];
  candidates.forEach((candidate, index) => {
    const sell = BigInt(candidate.sellMicros);
    const health = lookup(healthByProvider, candidate.providerId);
    if (ceiling !== null && sell > ceiling) {
      skipped.push({ candidate, reason: 'ABOVE_MAX_PRICE' });
      return;
    }
    if (health && !health.available) {
      skipped.push({ candidate, reason: 'CIRCUIT_OPEN' });
      return;
    }
    // Clamp to 1..1e6 ppm: a route that never delivered still has a finite (huge) expected cost.
    const ppm = BigInt(Math.min(PPM, Math.max(1, Math.floor(health?.successPpm ?? fallbackPpm))));
    const errorRate = Number.isFinite(health?.errorRate) ? (health!.errorRate as number) : 0;
    kept.push({ candidate, sell, ppm, errorRate, index });
  });
  kept.sort((a, b) => {
    // a.sell / a.ppm vs b.sell / b.ppm without division.
    const left = a.sell * b.ppm;
    const right = b.sell * a.ppm;
    if (left !== right) return left < right ? -1 : 1;
    if (a.sell !== b.sell) return a.sell < b.sell ? -1 : 1;
    if (a.errorRate !== b.errorRate) return a.errorRate - b.errorRate;
    if (a.candidate.providerId !== b.candidate.providerId) return a.candidate.providerId < b.candidate.providerId ? -1 : 1;
    return a.index - b.index;
  });
  return { ranked: kept.map((entry) => entry.candidate), skipped };
}

/** Candidates in the order to try them: expected cost of a success, then cheaper, then fewer errors; open breakers and prices above the ceiling left out. */
export function rankCandidates<T extends RoutingCandidate>(candidates: readonly T[], healthByProvider: HealthLookup, options: RankOptions = {}): T[] {
  return routeCandidates(candidates, healthByProvider, options).ranked;
}

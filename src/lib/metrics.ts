import { Counter, Histogram, Registry } from 'prom-client';

/**
 * Counters of what happens, in the process where it happens (mostly the worker: purchases end,
 * money settles, providers are called there). One registry per process; the worker's /metrics
 * (src/temporal/worker-metrics.ts) and the API's /metrics both include it. The gauges of durable
 * state (activations by status, wallet sums, open incidents, breakers) are read from the
 * database at scrape time instead: src/http/business-metrics.ts.
 *
 * Each hook is called once per event: after a guarded write that changed a row, or after a
 * settlement that moved money, never on a replay.
 */
export const eventMetrics = new Registry();

const purchases = new Counter({
  name: 'simgate_purchases_total',
  help: 'Purchases that ended, by outcome: COMPLETED (paid), CANCELLED or EXPIRED (refunded after the provider confirmed), FAILED (nobody could sell; the hold returned)',
  labelNames: ['outcome'],
  registers: [eventMetrics],
});
const numbersBought = new Counter({ name: 'simgate_numbers_bought_total', help: 'Numbers bought from a provider', labelNames: ['provider'], registers: [eventMetrics] });
const refunds = new Counter({ name: 'simgate_refunds_total', help: 'Holds released back to the customer in full (cancelled, expired or failed purchases)', registers: [eventMetrics] });
const refundedMicros = new Counter({ name: 'simgate_refunded_micros_total', help: 'Micro-dollars returned to customers by released holds', registers: [eventMetrics] });
const captures = new Counter({ name: 'simgate_captures_total', help: 'Holds captured (a purchase paid for its SMS)', registers: [eventMetrics] });
const capturedMicros = new Counter({ name: 'simgate_captured_micros_total', help: 'Micro-dollars spent by customers on captured holds (revenue before upstream cost)', registers: [eventMetrics] });
const smsLatency = new Histogram({
  name: 'simgate_sms_latency_seconds',
  help: 'From the number bought to its first SMS, by provider',
  labelNames: ['provider'],
  buckets: [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1200],
  registers: [eventMetrics],
});
const providerCalls = new Counter({
  name: 'simgate_provider_calls_total',
  help: 'Calls to upstream providers by operation and result (ok, or the ProviderError kind: TRANSIENT, NO_NUMBERS, REJECTED …; UNKNOWN for other errors)',
  labelNames: ['provider', 'operation', 'result'],
  registers: [eventMetrics],
});
const providerErrors = new Counter({
  name: 'simgate_provider_errors_total',
  help: 'Provider calls that count against its health (network errors, timeouts, 5xx, garbage replies): what opens the circuit breaker',
  labelNames: ['provider', 'operation'],
  registers: [eventMetrics],
});
const providerLatency = new Histogram({
  name: 'simgate_provider_call_duration_seconds',
  help: 'Upstream provider call duration by operation',
  labelNames: ['provider', 'operation'],
  buckets: [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6],
  registers: [eventMetrics],
});
const breakerTransitions = new Counter({
  name: 'simgate_provider_breaker_transitions_total',
  help: 'Circuit breaker changes seen by this process, by the state entered (open, closed)',
  labelNames: ['provider', 'state'],
  registers: [eventMetrics],
});

export const metrics = {
  purchaseEnded(outcome: string): void {
    purchases.inc({ outcome });
  },

  numberBought(providerId: string): void {
    numbersBought.inc({ provider: providerId });
  },

  /** A hold settled just now (not a replay): a capture spends `capturedMicros`, a release returns all of it. */
  holdSettled(hold: { status: string; amountMicros: bigint; capturedMicros: bigint | null }): void {
    if (hold.status === 'CAPTURED') {
      captures.inc();
      capturedMicros.inc(Number(hold.capturedMicros ?? 0n));
    } else if (hold.status === 'RELEASED') {
      refunds.inc();
      // Micro-dollars are exact in a double up to 2^53 (9 billion dollars).
      refundedMicros.inc(Number(hold.amountMicros));
    }
  },

  /** The first SMS of an activation was stored: how long after the purchase it came. */
  /** Purchase → first SMS, from the row the caller already read. */
  firstSms(providerId: string | null, activatedAt: Date | null, receivedAt: string | Date): void {
    if (!providerId || !activatedAt) return;
    const seconds = (new Date(receivedAt).getTime() - activatedAt.getTime()) / 1000;
    if (Number.isFinite(seconds)) smsLatency.observe({ provider: providerId }, Math.max(0, seconds));
  },

  providerCall(providerId: string, operation: string, outcome: { ok: boolean; kind?: string; healthFailure: boolean }, latencyMs: number): void {
    providerCalls.inc({ provider: providerId, operation, result: outcome.ok ? 'ok' : (outcome.kind ?? 'UNKNOWN') });
    if (outcome.healthFailure) providerErrors.inc({ provider: providerId, operation });
    providerLatency.observe({ provider: providerId, operation }, latencyMs / 1000);
  },

  breakerChanged(providerId: string, state: string): void {
    breakerTransitions.inc({ provider: providerId, state });
  },
};

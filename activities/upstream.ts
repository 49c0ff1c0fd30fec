import { Context } from '@temporalio/activity';
import type { PurchaseCandidate } from '../src/catalog/catalog.service';
import type { ProviderConfig } from '../src/config/providers.config';
import type { Db } from '../src/db/client';
import type { ProviderRegistry } from '../src/providers/registry';
import { ProviderError, type ProviderAdapter, type UpstreamSale, type UpstreamStatus } from '../src/providers/types';
import { createUpstreamClaims, type UpstreamPurchase } from './claims';

export type { UpstreamPurchase } from './claims';

export interface UpstreamRef {
  providerId: string;
  upstreamId: string;
}

/** A first attempt of a local buy this long after the activation was created follows a dead worker's attempt. */
const RESUMED_BUY_AFTER_MS = 5000;

/** A sale this much older than our first attempt cannot be the reply we lost (provider clocks drift). */
const LOST_REPLY_CLOCK_SLACK_MS = 2 * 60_000;

/**
 * Calls to the upstream providers. A buy is never repeated blindly: the number a provider sells
 * is claimed on the activation row before the activity returns, and an attempt after one whose
 * outcome is unknown (timeout, lost reply, worker killed mid-call) first looks at the provider's
 * open sales for the number the lost attempt bought, and claims it instead of buying another.
 * What no buy claims, the provider's reconciliation pass settles (activities/reconcile.ts).
 */
export function createUpstreamActivities(deps: { db: Db; providers: ProviderRegistry; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const claims = createUpstreamClaims(deps.db);

  const purchaseOf = (config: ProviderConfig, upstreamId: string, phone: string, boughtAt: number): UpstreamPurchase => ({
    providerId: config.id,
    upstreamId,
    phone,
    boughtAt: new Date(boughtAt).toISOString(),
    expiresAt: new Date(boughtAt + config.lifetimeSeconds * 1000).toISOString(),
    cancelAllowedAt: new Date(boughtAt + config.minCancelSeconds * 1000).toISOString(),
  });

  /**
   * The number an earlier attempt of this buy got but never heard of: an open sale for the same
   * service and country, within the price, sold since the first attempt and owned by nobody —
   * claimed newest first. One that already received an SMS counts too: it is still the number the
   * lost attempt paid for, and its SMS is settled like any other; skipping it would buy a second
   * number and leave this one to nobody (seen in the chaos storm, with the SMS a moment ahead).
   */
  async function claimLostSale(activationId: string, config: ProviderConfig, adapter: ProviderAdapter, candidate: PurchaseCandidate, maxPriceMicros: bigint, sinceMs: number): Promise<UpstreamPurchase | null> {
    const fits = (sale: UpstreamSale) =>
      sale.service === candidate.upstreamService &&
      (sale.country === null || sale.country === candidate.upstreamCountry) &&
      (sale.costMicros === null || sale.costMicros <= maxPriceMicros) &&
      (sale.soldAt === null || Date.parse(sale.soldAt) >= sinceMs - LOST_REPLY_CLOCK_SLACK_MS);
    const sales = (await adapter.getOpenSales()).filter(fits);
    if (sales.length === 0) return null;
    const owned = await claims.owned(config.id, sales.map((s) => s.upstreamId));
    const newestFirst = sales.filter((s) => !owned.has(s.upstreamId)).sort((a, b) => (b.soldAt ?? '').localeCompare(a.soldAt ?? ''));
    for (const sale of newestFirst) {
      const soldAt = sale.soldAt ? Math.min(Date.parse(sale.soldAt), now()) : now();
      const purchase = purchaseOf(config, sale.upstreamId, sale.phone, soldAt);
      if ((await claims.forActivation(activationId, purchase)) === 'ours') return purchase;
    }
    return null;
  }

  /** Tells Temporal this attempt is alive while the provider takes its time, so a dead worker is noticed in seconds. */
  function keepAlive(): () => void {
    let context: Context;
    try {
      context = Context.current();
    } catch {
      return () => undefined; // called outside an activity (tests of the factory itself)
    }
    // A local activity cannot heartbeat: the worker running the workflow task notices its death.
    if (context.info.isLocal) return () => undefined;
    const timer = setInterval(() => context.heartbeat(), 1000);
    return () => clearInterval(timer);
  }

  return {
    async buyNumber(input: { activationId: string; candidate: PurchaseCandidate }): Promise<UpstreamPurchase> {
      // A retry after the number was claimed: the reply was lost after the claim, not the number.
      // The same read tells when the row was created (below).
      const { claimed, createdAt: rowCreatedAt } = await claims.claimOf(input.activationId);
      if (claimed) return claimed;

      const { config, adapter } = await deps.providers.get(input.candidate.providerId);
      // Never pay the provider more than the cost our sell price was computed from.
      const maxPriceMicros = (BigInt(input.candidate.costMicros) * 10n ** BigInt(rateScale(config.usdRate))) / rateUnits(config.usdRate);
      const info = activityInfoOrNull();
      const stopKeepingAlive = keepAlive();
      try {
        // A local activity starts again at attempt 1 when the worker running it died (its workflow
        // task times out and runs elsewhere): there, a buy long after the activation was created
        // is taken as a retry too, and looks for the sale a dead attempt may have made.
        const createdAt = info?.isLocal ? rowCreatedAt?.getTime() : undefined;
        // Both clocks are this machine's and the database's wall clock (a test's `now` may run ahead).
        const resumed = createdAt !== undefined && Date.now() - createdAt > RESUMED_BUY_AFTER_MS;
        if (info && (info.attempt > 1 || resumed)) {
          const found = await claimLostSale(input.activationId, config, adapter, input.candidate, maxPriceMicros, Math.min(info.scheduledTimestampMs, createdAt ?? Infinity));
          if (found) return found;
        }
        const bought = await adapter.buy({ service: input.candidate.upstreamService, country: input.candidate.upstreamCountry, maxPriceMicros });
        const purchase = purchaseOf(config, bought.upstreamId, bought.phone, now());
        if ((await claims.forActivation(input.activationId, purchase)) === 'ours') return purchase;
        // Another buy's reconciliation took this number for the sale it lost; that lost sale, if
        // the provider lists it, is then ours. Otherwise the next attempt buys again.
        const swapped = await claimLostSale(input.activationId, config, adapter, input.candidate, maxPriceMicros, info?.scheduledTimestampMs ?? now());
        if (swapped) return swapped;
        throw new ProviderError('TRANSIENT', 'NUMBER_TAKEN', `${config.id} buy: the number sold was claimed by another purchase's reconciliation`);
      } finally {
        stopKeepingAlive();
      }
    },

    async pollUpstream(input: UpstreamRef): Promise<UpstreamStatus> {
      return (await deps.providers.get(input.providerId)).adapter.getStatus(input.upstreamId);
    },

    /** Resolves only when the provider confirms; refusals (too early, SMS present) are typed failures. */
    async cancelUpstream(input: UpstreamRef): Promise<void> {
      await (await deps.providers.get(input.providerId)).adapter.cancel(input.upstreamId);
    },

    async finishUpstream(input: UpstreamRef): Promise<void> {
      await (await deps.providers.get(input.providerId)).adapter.finish(input.upstreamId);
    },

    /**
     * Asks the provider for another SMS, then notes on the activation row that one is awaited (the
     * row is what GET /api/numbers/:id answers from). Both are safe to repeat: the provider
     * answers a repeated request alike, and the note names the messages there are, which the
     * workflow does not change meanwhile (it records SMS and asks for another one in turn).
     */
    async requestAnotherSmsUpstream(input: UpstreamRef): Promise<void> {
      await (await deps.providers.get(input.providerId)).adapter.requestAnotherSms(input.upstreamId);
      await deps.db.$executeRaw`
        UPDATE activations SET another_sms_after_seq = (SELECT coalesce(max(seq), 0) FROM sms_messages WHERE activation_id = activations.id)
        WHERE provider_id = ${input.providerId} AND upstream_id = ${input.upstreamId} AND status = 'ACTIVE'`;
    },

  };
}

function activityInfoOrNull() {
  try {
    return Context.current().info;
  } catch {
    return null;
  }
}

function rateScale(rate: string): number {
  return rate.split('.')[1]?.length ?? 0;
}

function rateUnits(rate: string): bigint {
  return BigInt(rate.replace('.', ''));
}

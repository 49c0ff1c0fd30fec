import type { PurchaseCandidate } from '../src/catalog/catalog.service';
import type { ProviderRegistry } from '../src/providers/registry';
import type { UpstreamStatus } from '../src/providers/types';

export interface UpstreamPurchase {
  providerId: string;
  upstreamId: string;
  phone: string;
  boughtAt: string;
  expiresAt: string;
  cancelAllowedAt: string;
}

export interface UpstreamRef {
  providerId: string;
  upstreamId: string;
}

/**
 * Calls to the upstream providers. The purchase itself is not recorded here: the activity's
 * result lands in the workflow history, and the workflow registers the upstream cancel as its
 * compensation before doing anything else — so a number bought is always cancelled or recorded.
 */
export function createUpstreamActivities(deps: { providers: ProviderRegistry; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    async buyNumber(input: { activationId: string; candidate: PurchaseCandidate }): Promise<UpstreamPurchase> {
      const { config, adapter } = await deps.providers.get(input.candidate.providerId);
      // Never pay the provider more than the cost our sell price was computed from.
      const maxPriceMicros = (BigInt(input.candidate.costMicros) * 10n ** BigInt(rateScale(config.usdRate))) / rateUnits(config.usdRate);
      const bought = await adapter.buy({ service: input.candidate.upstreamService, country: input.candidate.upstreamCountry, maxPriceMicros });
      const boughtAt = now();
      return {
        providerId: config.id,
        upstreamId: bought.upstreamId,
        phone: bought.phone,
        boughtAt: new Date(boughtAt).toISOString(),
        expiresAt: new Date(boughtAt + config.lifetimeSeconds * 1000).toISOString(),
        cancelAllowedAt: new Date(boughtAt + config.minCancelSeconds * 1000).toISOString(),
      };
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

    async requestAnotherSmsUpstream(input: UpstreamRef): Promise<void> {
      await (await deps.providers.get(input.providerId)).adapter.requestAnotherSms(input.upstreamId);
    },

  };
}

function rateScale(rate: string): number {
  return rate.split('.')[1]?.length ?? 0;
}

function rateUnits(rate: string): bigint {
  return BigInt(rate.replace('.', ''));
}

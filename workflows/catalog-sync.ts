/**
 * One catalog sync, started by the `catalog-sync` Schedule (src/temporal/schedules.ts) every
 * 15 minutes, overlap SKIP, or on demand (triggerCatalogSync). Each provider is synced by its
 * own activity, in parallel: a failing provider is retried, then reported, and never blocks the
 * others. The search index is refreshed afterwards. Idempotent: every step replaces state with
 * what the providers list now.
 */
import { ApplicationFailure, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType, type CatalogSyncResult } from './contracts';

const listing = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** A provider's price list: a few retries of transient faults; the next scheduled run is the real retry. */
const syncing = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['UNKNOWN_PROVIDER', FailureType.ProviderRejected],
  },
});

const indexing = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function catalogSyncWorkflow(): Promise<CatalogSyncResult> {
  const providerIds = await listing.listCatalogProviders();
  const outcomes = await Promise.all(
    providerIds.map(async (providerId) => {
      try {
        return { ok: true as const, result: await syncing.syncProviderCatalog({ providerId }) };
      } catch (error) {
        if (isCancellation(error)) throw error;
        const failure = rootFailure(error);
        log.warn('catalog sync failed for a provider', { providerId, type: failure.type, message: failure.message });
        return { ok: false as const, failure: { providerId, ...failure } };
      }
    }),
  );

  let indexed = true;
  try {
    await indexing.refreshCatalogIndex();
  } catch (error) {
    if (isCancellation(error)) throw error;
    indexed = false;
    log.warn('catalog search indexing failed', { ...rootFailure(error) });
  }

  return {
    synced: outcomes.flatMap((o) => (o.ok ? [o.result] : [])),
    failed: outcomes.flatMap((o) => (o.ok ? [] : [o.failure])),
    indexed,
  };
}

/** The activity's own failure (type and message) under the ActivityFailure wrapper. */
function rootFailure(error: unknown): { type: string | null; message: string } {
  let current: unknown = error;
  while (current && typeof current === 'object') {
    if (current instanceof ApplicationFailure) return { type: current.type ?? null, message: current.message };
    const cause = (current as { cause?: unknown }).cause;
    if (!cause) break;
    current = cause;
  }
  return { type: null, message: error instanceof Error ? error.message : String(error) };
}

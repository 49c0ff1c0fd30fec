import { ApplicationFailure } from '@temporalio/common';
import type { CatalogService } from '../src/catalog/catalog.service';
import type { CatalogSearchEngine } from '../src/catalog/search/search-engine';
import type { Db } from '../src/db/client';
import type { ProviderRegistry } from '../src/providers/registry';

export interface CatalogActivityDeps {
  catalog: CatalogService;
  providers: ProviderRegistry;
  /** The engine to refresh; default `catalog.search`. */
  search?: CatalogSearchEngine;
  /** When given, providers disabled in the database are not synced. */
  db?: Db;
}

/** A provider the registry does not know (removed since the sync started): retrying cannot help. */
export const UNKNOWN_PROVIDER = 'UNKNOWN_PROVIDER';

export function isUnknownProvider(error: unknown): boolean {
  return error instanceof Error && (error.name === 'UnknownProviderError' || /unknown provider/i.test(error.message));
}

/** Registry lookup that turns "no such provider" into a non-retryable, typed failure. */
export async function lookupProvider(providers: ProviderRegistry, providerId: string) {
  try {
    // `await`: the registry is becoming database-backed (get/list async); works either way.
    return await providers.get(providerId);
  } catch (error) {
    if (isUnknownProvider(error)) {
      throw ApplicationFailure.create({ type: UNKNOWN_PROVIDER, message: `unknown provider: ${providerId}`, nonRetryable: true });
    }
    throw error;
  }
}

/**
 * Catalog sync steps (workflows/catalog-sync.ts): one call per provider, so one provider's
 * failure is retried and reported alone. Each step is idempotent: a sync replaces the provider's
 * offers with what it lists now, and indexing rebuilds from PostgreSQL.
 */
export function createCatalogActivities(deps: CatalogActivityDeps) {
  return {
    /** Ids of the providers to sync: the registry's, minus those disabled in the database. */
    async listCatalogProviders(): Promise<string[]> {
      const ids = (await deps.providers.list()).map(({ config }) => config.id);
      if (!deps.db || ids.length === 0) return ids;
      const enabled = await deps.db.provider.findMany({ where: { id: { in: ids }, enabled: true }, select: { id: true } });
      const keep = new Set(enabled.map((row) => row.id));
      return ids.filter((id) => keep.has(id));
    },

    async syncProviderCatalog(input: { providerId: string }): Promise<{ providerId: string; upserted: number; skipped: number }> {
      // A failure is retried by the workflow's policy, then reported (and logged) by the workflow.
      const { config, adapter } = await lookupProvider(deps.providers, input.providerId);
      const result = await deps.catalog.syncProviderOffers(config, adapter);
      return { providerId: config.id, ...result };
    },

    async refreshCatalogIndex(): Promise<void> {
      await (deps.search ?? deps.catalog.search).indexCatalog();
    },
  };
}

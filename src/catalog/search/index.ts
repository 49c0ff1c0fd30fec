import type { SearchConfig } from '../../config/app.config';
import type { Db } from '../../db/client';
import { PostgresSearchEngine } from './postgres.engine';
import type { CatalogSearchEngine } from './search-engine';

export * from './search-engine';
export { PostgresSearchEngine } from './postgres.engine';

/**
 * The configured engine (SEARCH_ENGINE). The Meilisearch client is an ES module: it is loaded
 * only when that engine is chosen, so the default engine never pays for it (and Jest, which
 * cannot require ES modules, only meets it in the Meilisearch test run).
 */
export async function createSearchEngine(config: SearchConfig, deps: { db: Db }): Promise<CatalogSearchEngine> {
  if (config.engine === 'postgres') return new PostgresSearchEngine(deps);
  if (!config.meili?.url) throw new Error('SEARCH_ENGINE=meilisearch needs MEILI_URL');
  const { MeilisearchSearchEngine } = await import('./meilisearch.engine.js');
  return new MeilisearchSearchEngine(deps, config.meili);
}

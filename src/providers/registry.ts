import type { ProviderConfig } from '../config/providers.config';
import type { Db } from '../db/client';
import { FivesimAdapter } from './fivesim.adapter';
import { SmsActivateAdapter } from './sms-activate.adapter';
import type { ProviderAdapter } from './types';

export interface RegisteredProvider {
  config: ProviderConfig;
  adapter: ProviderAdapter;
}

export interface ProviderRegistry {
  get(id: string): RegisteredProvider;
  list(): RegisteredProvider[];
}

export class UnknownProviderError extends Error {
  constructor(id: string) {
    super(`unknown provider: ${id}`);
    this.name = 'UnknownProviderError';
  }
}

/** Builds one adapter per configured provider; the protocol decides the adapter. */
export function createProviderRegistry(configs: readonly ProviderConfig[]): ProviderRegistry {
  const providers = new Map<string, RegisteredProvider>();
  for (const config of configs) {
    const options = { id: config.id, baseUrl: config.baseUrl, apiKey: config.apiKey, timeoutMs: config.requestTimeoutMs };
    const adapter: ProviderAdapter = config.protocol === 'FIVESIM' ? new FivesimAdapter(options) : new SmsActivateAdapter(options);
    providers.set(config.id, { config, adapter });
  }
  return {
    get(id) {
      const provider = providers.get(id);
      if (!provider) throw new UnknownProviderError(id);
      return provider;
    },
    list: () => [...providers.values()],
  };
}

/** Mirrors the configured providers into the database, where offers and activations reference them. */
export async function syncProviderRows(db: Db, configs: readonly ProviderConfig[]): Promise<void> {
  for (const config of configs) {
    await db.provider.upsert({
      where: { id: config.id },
      create: { id: config.id, displayName: config.displayName, protocol: config.protocol, markupBps: config.markupBps },
      update: { displayName: config.displayName, protocol: config.protocol, markupBps: config.markupBps },
    });
  }
}

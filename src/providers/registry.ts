import type { Logger } from '../lib/logger';
import type { ProviderConfig } from '../config/providers.config';
import type { Db } from '../db/client';
import type { SecretBox } from '../lib/secrets';
import { FivesimAdapter } from './fivesim.adapter';
import { SmsActivateAdapter } from './sms-activate.adapter';
import type { ProviderAdapter } from './types';

export interface RegisteredProvider {
  config: ProviderConfig;
  adapter: ProviderAdapter;
}

/** Async because the providers live in the database: an admin can add, re-key or disable one at run time. */
export interface ProviderRegistry {
  get(id: string): Promise<RegisteredProvider>;
  /** Enabled providers with credentials. */
  list(): Promise<RegisteredProvider[]>;
}

export class UnknownProviderError extends Error {
  constructor(id: string) {
    super(`unknown provider: ${id}`);
    this.name = 'UnknownProviderError';
  }
}

/** The purpose bound into provider key envelopes (see src/lib/secrets.ts). */
export const PROVIDER_KEY_PURPOSE = 'provider-api-key';
/** A webhook secret's envelope cannot be pasted into the API key column (and decrypt), nor the other way round. */
export const PROVIDER_WEBHOOK_SECRET_PURPOSE = 'provider-webhook-secret';

export type AdapterDecorator = (adapter: ProviderAdapter, config: ProviderConfig) => ProviderAdapter;

/** The protocol decides the adapter; `wrap` adds cross-cutting behaviour (health recording). */
export function buildAdapter(config: ProviderConfig, wrap?: AdapterDecorator, logger?: Logger): ProviderAdapter {
  // The logger gets one debug line per HTTP call (provider, action, status, time; never the URL, which may hold the key).
  const options = { id: config.id, baseUrl: config.baseUrl, apiKey: config.apiKey, timeoutMs: config.requestTimeoutMs, logger };
  const adapter: ProviderAdapter = config.protocol === 'FIVESIM' ? new FivesimAdapter(options) : new SmsActivateAdapter(options);
  return wrap ? wrap(adapter, config) : adapter;
}

/** A fixed set of providers (tools and tests that do not go through the database). */
export function createProviderRegistry(configs: readonly ProviderConfig[], options: { wrap?: AdapterDecorator } = {}): ProviderRegistry {
  const providers = new Map<string, RegisteredProvider>();
  for (const config of configs) providers.set(config.id, { config, adapter: buildAdapter(config, options.wrap) });
  return {
    async get(id) {
      const provider = providers.get(id);
      if (!provider) throw new UnknownProviderError(id);
      return provider;
    },
    list: async () => [...providers.values()],
  };
}

type ProviderRow = NonNullable<Awaited<ReturnType<Db['provider']['findUnique']>>>;

/**
 * Providers as data: rows in `providers`, the API key stored as an AES-256-GCM envelope. Adapters
 * are built on first use and rebuilt when the row changes (its updatedAt), so a re-keyed or
 * re-pointed provider is picked up by every process without a restart.
 */
export class DatabaseProviderRegistry implements ProviderRegistry {
  private readonly cache = new Map<string, { updatedAt: number; provider: RegisteredProvider }>();

  constructor(private readonly deps: { db: Db; secrets: SecretBox; wrap?: AdapterDecorator; logger?: Logger }) {}

  async get(id: string): Promise<RegisteredProvider> {
    const row = await this.deps.db.provider.findUnique({ where: { id } });
    if (!row || !row.baseUrl || !row.apiKey) throw new UnknownProviderError(id);
    return this.fromRow(row);
  }

  async list(): Promise<RegisteredProvider[]> {
    const rows = await this.deps.db.provider.findMany({ where: { enabled: true, baseUrl: { not: '' }, apiKey: { not: '' } }, orderBy: { id: 'asc' } });
    return rows.map((row) => this.fromRow(row));
  }

  private fromRow(row: ProviderRow): RegisteredProvider {
    const cached = this.cache.get(row.id);
    if (cached && cached.updatedAt === row.updatedAt.getTime()) return cached.provider;
    const config = rowToConfig(row, this.deps.secrets);
    const provider = { config, adapter: buildAdapter(config, this.deps.wrap, this.deps.logger) };
    this.cache.set(row.id, { updatedAt: row.updatedAt.getTime(), provider });
    return provider;
  }
}

export function rowToConfig(row: ProviderRow, secrets: SecretBox): ProviderConfig {
  return {
    id: row.id,
    displayName: row.displayName,
    protocol: row.protocol,
    baseUrl: row.baseUrl,
    apiKey: secrets.decrypt(row.apiKey, PROVIDER_KEY_PURPOSE),
    usdRate: row.usdRate,
    markupBps: row.markupBps,
    lifetimeSeconds: row.lifetimeSeconds,
    minCancelSeconds: row.minCancelSeconds,
    requestTimeoutMs: row.requestTimeoutMs,
    countryIds: row.countryIds as ProviderConfig['countryIds'],
    enabled: row.enabled,
  };
}

/** The one place a provider's API key is encrypted for storage. */
export function sealProviderKey(apiKey: string, secrets: SecretBox): string {
  return secrets.encrypt(apiKey, PROVIDER_KEY_PURPOSE);
}

/** The one place a provider's webhook secret is encrypted for storage. */
export function sealProviderWebhookSecret(secret: string, secrets: SecretBox): string {
  return secrets.encrypt(secret, PROVIDER_WEBHOOK_SECRET_PURPOSE);
}

/** The columns a ProviderConfig sets, with the key encrypted. */
export function configToRow(config: ProviderConfig, secrets: SecretBox) {
  return {
    displayName: config.displayName,
    protocol: config.protocol,
    baseUrl: config.baseUrl,
    apiKey: sealProviderKey(config.apiKey, secrets),
    usdRate: config.usdRate,
    markupBps: config.markupBps,
    lifetimeSeconds: config.lifetimeSeconds,
    minCancelSeconds: config.minCancelSeconds,
    requestTimeoutMs: config.requestTimeoutMs,
    countryIds: config.countryIds,
    enabled: config.enabled,
  };
}

/**
 * Applies providers from configuration (PROVIDERS_JSON, or the simulator's in development):
 * creates them, or updates them: configuration owns the providers it lists (connection, pricing
 * and whether they are enabled). Providers added through the admin API are not touched.
 */
export async function syncProviderRows(db: Db, configs: readonly ProviderConfig[], secrets: SecretBox): Promise<void> {
  for (const config of configs) {
    const data = configToRow(config, secrets);
    await db.provider.upsert({ where: { id: config.id }, create: { id: config.id, ...data }, update: data });
  }
}

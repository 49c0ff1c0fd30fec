import Redis from 'ioredis';
import { ActivationService } from './activations/activation.service';
import { AuthService } from './auth/auth.service';
import { CatalogService } from './catalog/catalog.service';
import type { AppConfig } from './config/app.config';
import { createDb, type Db } from './db/client';
import { createLogger, type Logger } from './lib/logger';
import { redisActivationEvents, type ActivationEventPublisher } from './notify/activation-events';
import { createProviderRegistry, syncProviderRows, type ProviderRegistry } from './providers/registry';
import { connectTemporal, type TemporalConnection } from './temporal/client';
import { WalletService } from './wallet';

/**
 * Every long-lived dependency of a SimGate process, built once from config and closed in
 * reverse order. The API, the worker and the tests all start from here.
 */
export interface Container {
  config: Readonly<AppConfig>;
  logger: Logger;
  db: Db;
  redis: Redis;
  temporal: TemporalConnection;
  providers: ProviderRegistry;
  wallet: WalletService;
  catalog: CatalogService;
  auth: AuthService;
  activations: ActivationService;
  events: ActivationEventPublisher;
  close(): Promise<void>;
}

export async function createContainer(config: Readonly<AppConfig>, options: { logger?: Logger } = {}): Promise<Container> {
  const { env } = config;
  const logger = options.logger ?? createLogger(env.LOG_LEVEL);
  const db = createDb(env.DATABASE_URL, { max: 20 });
  const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  const temporal = await connectTemporal({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE });
  const providers = createProviderRegistry(config.providers);
  await syncProviderRows(db, config.providers);

  const wallet = new WalletService({ db });
  const catalog = new CatalogService({ db });
  const auth = new AuthService({ db, wallet, jwt: { secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.JWT_TTL_SECONDS } });
  const activations = new ActivationService({
    db,
    temporal: temporal.client,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    catalog,
    wallet,
    polling: { initialMs: config.activation.pollInitialMs, maxMs: config.activation.pollMaxMs },
  });

  return {
    config,
    logger,
    db,
    redis,
    temporal,
    providers,
    wallet,
    catalog,
    auth,
    activations,
    events: redisActivationEvents(redis),
    async close() {
      await temporal.close().catch(() => undefined);
      redis.disconnect();
      await db.$disconnect();
    },
  };
}

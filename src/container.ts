import Redis from 'ioredis';
import { ActivationService } from './activations/activation.service';
import { redisActivationEvents, type ActivationEventPublisher } from './activations/live-events';
import { PartnerEvents } from './activations/partner-events';
import { PurchaseKeys } from './activations/purchase-keys';
import { ActivationReadModel } from './activations/read-model';
import { AdminReports } from './activations/reports';
import { SmsIntake } from './activations/sms-intake';
import { ApiKeyService } from './auth/api-keys.service';
import { AuthService } from './auth/auth.service';
import { PartnerWebhookService } from './auth/partner-webhooks.service';
import { UserAdminService } from './auth/user-admin.service';
import { CatalogService } from './catalog/catalog.service';
import { createSearchEngine, type CatalogSearchEngine } from './catalog/search';
import type { AppConfig } from './config/app.config';
import { createDb, type Db } from './db/client';
import { AuditLog } from './lib/audit';
import { createLogger, type Logger } from './lib/logger';
import { developmentKeyring, parseKeyring, SecretBox } from './lib/secrets';
import { EchoingMailer, OutboxMailer, type MailMessageInput, type Mailer } from './notify/mail';
import { ProviderHealth, withHealth } from './providers/health';
import { IncidentService } from './providers/incidents.service';
import { ProviderAdminService } from './providers/provider-admin.service';
import { DatabaseProviderRegistry, syncProviderRows, type ProviderRegistry } from './providers/registry';
import { createProcessors, PaymentsService } from './payments';
import { connectTemporal, type TemporalConnection } from './temporal/client';
import { TemporalTopups } from './temporal/topups';
import { WalletService } from './wallet';
import { DEFAULT_WEBHOOK_RETRY } from '../workflows/contracts';

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
  /** The configured catalog search engine (SEARCH_ENGINE); also behind catalog.search. */
  search: CatalogSearchEngine;
  /** Provider health and circuit breakers, shared through Redis by every process. */
  health: ProviderHealth;
  auth: AuthService;
  /** AES-256-GCM envelopes for secrets at rest (TOTP, API signing and partner webhook secrets …). */
  secrets: SecretBox;
  mailer: Mailer;
  /** The activations table as the API reads it (names for live events and ledger lines). */
  readModel: ActivationReadModel;
  audit: AuditLog;
  apiKeys: ApiKeyService;
  partnerWebhooks: PartnerWebhookService;
  /** Partner webhook events: enqueued by the record activities, listed and replayed by the API. */
  partnerEvents: PartnerEvents;
  activations: ActivationService;
  /** The one path a provider's SMS takes in (webhooks in the API, inbox pollers in the worker). */
  intake: SmsIntake;
  events: ActivationEventPublisher;
  incidents: IncidentService;
  providerAdmin: ProviderAdminService;
  userAdmin: UserAdminService;
  reports: AdminReports;
  /** Top-ups through the configured payment processors, their callbacks, refunds and coupons. */
  payments: PaymentsService;
  close(): Promise<void>;
}

export interface ContainerOptions {
  logger?: Logger;
  /** Development: also show every e-mail sent (the dev stack prints it to the terminal). */
  echoMail?: (message: MailMessageInput) => void;
}

export async function createContainer(config: Readonly<AppConfig>, options: ContainerOptions = {}): Promise<Container> {
  const { env } = config;
  const logger = options.logger ?? createLogger(env.LOG_LEVEL);
  const db = createDb(env.DATABASE_URL, { max: 20 });
  const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  const temporal = await connectTemporal({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE });
  // SECRETS_KEYS is required in production (env.schema.ts); elsewhere a fixed development key.
  const secrets = new SecretBox(env.SECRETS_KEYS ? parseKeyring(env.SECRETS_KEYS) : developmentKeyring());
  await syncProviderRows(db, config.providers, secrets);
  // A half-open breaker's probe slot outlives the slowest provider call.
  const probeTimeoutMs = Math.max(30_000, ...config.providers.map((p) => 2 * p.requestTimeoutMs));
  const health = new ProviderHealth({ redis, ...config.health, probeTimeoutMs });
  // Every upstream call is timed and its outcome recorded; buys skip a provider whose breaker is open.
  const providers = new DatabaseProviderRegistry({ db, secrets, wrap: (adapter) => withHealth(adapter, health, { logger }), logger });

  const wallet = new WalletService({ db });
  const search = await createSearchEngine(config.search, { db });
  const catalog = new CatalogService({ db, search, health });
  const outbox = new OutboxMailer({ db, logger });
  const mailer: Mailer = options.echoMail ? new EchoingMailer(outbox, options.echoMail) : outbox;
  const audit = new AuditLog({ db });
  const auth = new AuthService({
    db,
    wallet,
    jwt: { secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.JWT_TTL_SECONDS },
    redis,
    secrets,
    mailer,
    audit,
    security: config.security,
    redisPrefix: config.redisPrefix,
  });
  const apiKeys = new ApiKeyService({ db, secrets, audit });
  const partnerWebhooks = new PartnerWebhookService({ db, secrets, audit, mailer, production: env.NODE_ENV === 'production' });
  const partnerEvents = new PartnerEvents({
    db,
    temporal: temporal.client,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    retry: { ...DEFAULT_WEBHOOK_RETRY, initialMs: config.webhooks.retryInitialMs, maxMs: config.webhooks.retryMaxMs },
  });
  const incidents = new IncidentService({ db, audit });
  const readModel = new ActivationReadModel({ db });
  const activations = new ActivationService({
    readModel,
    purchaseKeys: new PurchaseKeys({ db }),
    temporal: temporal.client,
    audit,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    catalog,
    wallet,
    polling: { initialMs: config.activation.pollInitialMs, maxMs: config.activation.pollMaxMs },
    temporalUiUrl: env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`,
  });

  const publicUrl = config.security.publicUrl;
  const payments = new PaymentsService({
    db,
    wallet,
    incidents,
    audit,
    processors: createProcessors(config.payments, { db, publicUrl }),
    limits: config.payments.limits,
    expirySeconds: config.payments.expirySeconds,
    publicUrl,
    callbackBaseUrl: config.payments.callbackBaseUrl ?? publicUrl,
    orchestrator: new TemporalTopups({ client: temporal.client, taskQueue: env.TEMPORAL_TASK_QUEUE, polling: config.payments.polling, settleGraceMs: config.payments.settleGraceMs }),
    logger,
  });

  return {
    config,
    logger,
    payments,
    db,
    redis,
    temporal,
    providers,
    wallet,
    catalog,
    search,
    health,
    auth,
    secrets,
    mailer,
    readModel,
    audit,
    apiKeys,
    partnerWebhooks,
    partnerEvents,
    activations,
    intake: new SmsIntake({ db, temporal: temporal.client, incidents, logger }),
    events: redisActivationEvents(redis, config.redisPrefix),
    incidents,
    providerAdmin: new ProviderAdminService({ db, secrets, audit, catalog, providers, health }),
    userAdmin: new UserAdminService({ db, wallet, audit }),
    reports: new AdminReports({ db, health }),
    async close() {
      await temporal.close().catch(() => undefined);
      redis.disconnect();
      await db.$disconnect();
    },
  };
}

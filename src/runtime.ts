import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import type { Duration } from '@temporalio/common';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { Express } from 'express';
import type { Container } from './container';
import { createApp } from './http/app';
import { ActivationEventHub } from './activations/live-events';
import { ensureCatalogSyncSchedule, ensureProviderInbox } from './temporal/schedules';
import { startWorker, type WorkerHandle } from './temporal/worker';

/** Start-up pieces shared by the entry points in src/bin and by the integration tests. */

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  /** The Express app (tests enumerate its routes, e.g. every admin route). */
  app: Express;
  close(): Promise<void>;
}

export async function startApi(container: Container, options: { port: number; host: string; serveUi?: boolean }): Promise<RunningApi> {
  const subscriber = new Redis(container.config.env.REDIS_URL, { lazyConnect: true });
  await subscriber.connect();
  const events = new ActivationEventHub({
    subscriber,
    logger: container.logger,
    redisPrefix: container.config.redisPrefix,
    names: (serviceCode, countryIso) => container.readModel.names(serviceCode, countryIso),
  });
  await events.start();
  const app = createApp({
    db: container.db,
    auth: container.auth,
    wallet: container.wallet,
    catalog: container.catalog,
    activations: container.activations,
    intake: container.intake,
    events,
    logger: container.logger,
    webhookSecret: container.config.env.PROVIDER_WEBHOOK_SECRET,
    redis: container.redis,
    audit: container.audit,
    apiKeys: container.apiKeys,
    partnerWebhooks: container.partnerWebhooks,
    partnerEvents: container.partnerEvents,
    security: container.config.security,
    providerAdmin: container.providerAdmin,
    incidents: container.incidents,
    userAdmin: container.userAdmin,
    payments: container.payments,
    readiness: readinessChecks(container),
    health: container.health,
    jsonBodyLimit: container.config.limits.jsonBodyBytes,
    serveUi: options.serveUi,
  });
  const server = app.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    server,
    app,
    async close() {
      await events.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      subscriber.disconnect();
    },
  };
}

/** What /readyz asks: the database, Redis, the Temporal frontend, and that some worker polls our task queue. */
function readinessChecks(container: Container): Record<string, () => Promise<unknown>> {
  const { env } = container.config;
  const { client } = container.temporal;
  const service = client.connection.workflowService;
  // A deadline, not only the route's timeout: a call left retrying would outlive the request.
  const briefly = <T>(call: () => Promise<T>) => client.withDeadline(Date.now() + 2000, call);
  return {
    postgres: () => container.db.$queryRaw`SELECT 1`,
    redis: () => container.redis.ping(),
    temporal: () => briefly(() => service.getSystemInfo({})),
    worker: async () => {
      const queue = await briefly(() => service.describeTaskQueue({ namespace: env.TEMPORAL_NAMESPACE, taskQueue: { name: env.TEMPORAL_TASK_QUEUE }, taskQueueType: 1 }));
      if ((queue.pollers ?? []).length === 0) throw new Error(`no worker polls ${env.TEMPORAL_TASK_QUEUE}`);
    },
  };
}

export async function startActivationWorker(container: Container, options: { workflowBundle?: WorkflowBundleOption } = {}): Promise<WorkerHandle> {
  const { env } = container.config;
  return startWorker({
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowBundle: options.workflowBundle,
    deps: { db: container.db, wallet: container.wallet, catalog: container.catalog, providers: container.providers, events: container.events, health: container.health, search: container.search, intake: container.intake, incidents: container.incidents, logger: container.logger, partnerWebhooks: container.partnerWebhooks, partnerEvents: container.partnerEvents, webhookTimeoutMs: container.config.webhooks.timeoutMs, payments: container.payments },
  });
}

/**
 * Reference data plus every configured provider's current prices, then the search index; a
 * failing provider is skipped, not fatal, and so is a failing search engine (searches then see
 * the previous index).
 */
export async function seedCatalog(container: Container): Promise<{ offers: number; failed: string[]; indexed: boolean }> {
  await container.catalog.seedReference();
  let offers = 0;
  const failed: string[] = [];
  for (const { config, adapter } of await container.providers.list()) {
    try {
      offers += (await container.catalog.syncProviderOffers(config, adapter)).upserted;
    } catch (error) {
      failed.push(config.id);
      container.logger.warn({ err: error, providerId: config.id }, 'catalog sync failed for a provider');
    }
  }
  let indexed = true;
  try {
    await container.search.indexCatalog();
  } catch (error) {
    indexed = false;
    container.logger.warn({ err: error, engine: container.search.name }, 'catalog search indexing failed');
  }
  return { offers, failed, indexed };
}

/**
 * Periodic work, started after the worker (DESIGN.md): the catalog sync Schedule (every 15
 * minutes, overlap SKIP) and one inbox poller per enabled provider. Idempotent: every worker
 * process calls it at start-up; a schedule is updated in place and a running poller kept.
 */
export async function startBackgroundWork(
  container: Container,
  options: { catalogSyncEvery?: Duration; inboxIntervalMs?: number } = {},
): Promise<{ scheduleId: string; inboxes: string[] }> {
  const client = container.temporal.client;
  const taskQueue = container.config.env.TEMPORAL_TASK_QUEUE;
  const { scheduleId } = await ensureCatalogSyncSchedule(client, { taskQueue, every: options.catalogSyncEvery ?? '15 minutes' });
  const ids = (await container.providers.list()).map(({ config }) => config.id);
  const enabled = new Set((await container.db.provider.findMany({ where: { id: { in: ids }, enabled: true }, select: { id: true } })).map((p) => p.id));
  const inboxes: string[] = [];
  for (const providerId of ids.filter((id) => enabled.has(id))) {
    const { everyMs: reconcileEveryMs, orphanGraceMs } = container.config.reconcile;
    inboxes.push((await ensureProviderInbox(client, { providerId, taskQueue, intervalMs: options.inboxIntervalMs, reconcileEveryMs, orphanGraceMs })).workflowId);
  }
  container.logger.info({ scheduleId, inboxes }, 'background work ensured');
  return { scheduleId, inboxes };
}

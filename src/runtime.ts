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
import { superviseInboxes, type InboxSupervisor } from './temporal/inbox-supervisor';
import { ensureCatalogSyncSchedule } from './temporal/schedules';
import { installRuntime, startWorker, type WorkerHandle } from './temporal/worker';
import { freeLocalPort, startWorkerMetricsServer, type WorkerMetricsServer } from './temporal/worker-metrics';

/** Start-up pieces shared by the entry points in src/bin and by the integration tests. */

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  /** The Express app (tests enumerate its routes, e.g. every admin route). */
  app: Express;
  /** This process's activation event hub: live pages and the numbers of purchases it starts. */
  events: ActivationEventHub;
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
  container.activations.listenForNumbers(events);
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
    reports: container.reports,
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
    events,
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

export interface ActivationWorker extends WorkerHandle {
  /** The worker's own /metrics, when asked for. */
  metrics?: WorkerMetricsServer;
}

/**
 * The activation worker. The process's Temporal runtime is installed here unless one already is
 * (its logger is the container's pino logger); with `metrics`, the SDK's Prometheus exporter is
 * switched on (TEMPORAL_SDK_METRICS_PORT on loopback) and served with our counters at `metrics`.
 */
export async function startActivationWorker(
  container: Container,
  options: { workflowBundle?: WorkflowBundleOption; metrics?: { host: string; port: number } } = {},
): Promise<ActivationWorker> {
  const { env } = container.config;
  const sdkPort = options.metrics ? env.TEMPORAL_SDK_METRICS_PORT || (await freeLocalPort()) : null;
  const sdkMetrics = installRuntime({ logger: container.logger, sdkMetricsAddress: sdkPort ? `127.0.0.1:${sdkPort}` : undefined }) && sdkPort !== null;
  if (options.metrics && !sdkMetrics) container.logger.warn('Temporal runtime already installed in this process: the worker /metrics has no SDK metrics');
  const handle = await startWorker({
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowBundle: options.workflowBundle,
    tuning: container.config.worker,
    deps: { db: container.db, wallet: container.wallet, catalog: container.catalog, providers: container.providers, events: container.events, health: container.health, search: container.search, intake: container.intake, incidents: container.incidents, logger: container.logger, partnerWebhooks: container.partnerWebhooks, partnerEvents: container.partnerEvents, webhookTimeoutMs: container.config.webhooks.timeoutMs, payments: container.payments },
  });
  if (!options.metrics) return handle;
  const metrics = await startWorkerMetricsServer({
    ...options.metrics,
    token: container.config.security.metricsToken,
    sdkMetricsUrl: sdkMetrics ? `http://127.0.0.1:${sdkPort}/metrics` : null,
    logger: container.logger,
  }).catch(async (error: unknown) => {
    await handle.shutdown();
    throw error;
  });
  return {
    ...handle,
    metrics,
    async shutdown() {
      await metrics.close();
      await handle.shutdown();
    },
  };
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
 * minutes, overlap SKIP) and one inbox poller per enabled provider — kept so by a supervisor
 * that also starts the poller of a provider added or re-enabled later, without a restart.
 * Idempotent: every worker process calls it at start-up; a schedule is updated in place and a
 * running poller kept.
 */
export async function startBackgroundWork(
  container: Container,
  options: { catalogSyncEvery?: Duration; inboxIntervalMs?: number; superviseEveryMs?: number } = {},
): Promise<{ scheduleId: string; inboxes: string[]; supervisor: InboxSupervisor }> {
  const client = container.temporal.client;
  const taskQueue = container.config.env.TEMPORAL_TASK_QUEUE;
  const { scheduleId } = await ensureCatalogSyncSchedule(client, { taskQueue, every: options.catalogSyncEvery ?? '15 minutes' });
  const supervisor = startInboxSupervisor(container, options);
  const inboxes = await supervisor.check();
  container.logger.info({ scheduleId, inboxes }, 'background work ensured');
  return { scheduleId, inboxes, supervisor };
}

/** The inbox supervisor alone (the bench runs it without the catalog Schedule). */
export function startInboxSupervisor(container: Container, options: { inboxIntervalMs?: number; superviseEveryMs?: number } = {}): InboxSupervisor {
  const { activation, reconcile } = container.config;
  return superviseInboxes({
    client: container.temporal.client,
    taskQueue: container.config.env.TEMPORAL_TASK_QUEUE,
    async enabledProviders() {
      const ids = (await container.providers.list()).map(({ config }) => config.id);
      const enabled = await container.db.provider.findMany({ where: { id: { in: ids }, enabled: true }, select: { id: true } });
      return enabled.map((p) => p.id).sort();
    },
    intervalMs: options.inboxIntervalMs ?? activation.inboxIntervalMs,
    reconcileEveryMs: reconcile.everyMs,
    orphanGraceMs: reconcile.orphanGraceMs,
    everyMs: options.superviseEveryMs ?? activation.inboxSuperviseMs,
    logger: container.logger,
  });
}

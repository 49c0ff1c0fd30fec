import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Express, type RequestHandler } from 'express';
import type Redis from 'ioredis';
import helmet from 'helmet';
import passport from 'passport';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ActivationService } from '../activations/activation.service';
import type { ActivationEventHub } from '../activations/live-events';
import type { AdminReports } from '../activations/reports';
import type { SmsIntake } from '../activations/sms-intake';
import type { UserAdminService } from '../auth/user-admin.service';
import type { ApiKeyService } from '../auth/api-keys.service';
import type { PartnerEvents } from '../activations/partner-events';
import type { AuthService } from '../auth/auth.service';
import type { PartnerWebhookService } from '../auth/partner-webhooks.service';
import type { CatalogService } from '../catalog/catalog.service';
import type { SecurityConfig } from '../config/app.config';
import type { Db } from '../db/client';
import type { AuditLog } from '../lib/audit';
import type { IncidentService } from '../providers/incidents.service';
import type { ProviderAdminService } from '../providers/provider-admin.service';
import type { Logger } from '../lib/logger';
import { withLogContext } from '../lib/log-context';
import { eventMetrics } from '../lib/metrics';
import type { PaymentsService } from '../payments';
import type { WalletService } from '../wallet';
import { safeEqual } from '../auth/tokens';
import type { ProviderHealth } from '../providers/health';
import { registerBusinessMetrics } from './business-metrics';
import { JWT_STRATEGY, requireAdmin, requireStreamUser, requireUser } from './middleware/auth';
import { corsPolicy } from './middleware/cors';
import { createCsrf } from './middleware/csrf';
import { RateLimits } from './middleware/rate-limit';
import { captureRawBody } from './middleware/signing';
import { refuseInvalidText } from './middleware/text';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { adminRoutes } from './routes/admin';
import { adminProviderRoutes } from './routes/admin-providers';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { authRoutes, refreshFamilyOf } from './routes/auth';
import { catalogRoutes } from './routes/catalog';
import { eventsRoute, streamTicketRoute } from './routes/events';
import { HANDLER_API_PATHS, handlerApi } from './routes/handler-api';
import { numbersRoutes } from './routes/numbers';
import { paymentAdminRoutes, paymentRoutes, paymentWebhookRoutes } from './routes/payments';
import { v1Routes } from './routes/v1';
import { partnerWebhookRoutes } from './routes/partner-webhooks';
import { walletRoutes } from './routes/wallet';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  db: Db;
  auth: AuthService;
  wallet: WalletService;
  catalog: CatalogService;
  /** Everything about activations: purchase, actions, reads, SMS intake, live events. */
  activations: ActivationService;
  intake: SmsIntake;
  events: ActivationEventHub;
  logger: Logger;
  /** PROVIDER_WEBHOOK_SECRET: what a provider without its own webhook secret must present. */
  webhookSecret: string;
  /** Accounts and request security (rate limits, CSRF, CORS, API keys, audit): see docs/auth.md. */
  redis: Redis;
  audit: AuditLog;
  apiKeys: ApiKeyService;
  partnerWebhooks: PartnerWebhookService;
  partnerEvents: PartnerEvents;
  security: SecurityConfig;
  /** The services behind /api/admin. */
  providerAdmin: ProviderAdminService;
  incidents: IncidentService;
  userAdmin: UserAdminService;
  /** The admin panel's money, reconciliation and dashboard figures. */
  reports: AdminReports;
  /** Top-ups, processor callbacks and coupons (src/payments). */
  payments: PaymentsService;
  /** Circuit breakers, for the business metrics on /metrics. */
  health?: ProviderHealth;
  /** /readyz: each named dependency check must resolve (PostgreSQL, Redis, Temporal, a polling worker). */
  readiness?: Record<string, () => Promise<unknown>>;
  jsonBodyLimit?: string;
  /** Serve the built web app at / and the admin panel at /admin/ when their dist folders exist. */
  serveUi?: boolean;
}

const UI_ROOT = path.resolve(__dirname, '../..');
const READINESS_TIMEOUT_MS = 2000;
const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Builds the Express app from its dependencies; does not listen (src/bin/api.ts does). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For decides req.ip (per-IP rate limits, lockouts, audit): believed only from the proxies TRUST_PROXY names.
  app.set('trust proxy', deps.security.trustProxy);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const httpDuration = new Histogram({
    name: 'simgate_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });

  registerBusinessMetrics(metrics, { db: deps.db, wallet: deps.wallet, health: deps.health });
  // Plus the counters of what happened in this process (provider calls made by admin syncs …; src/lib/metrics.ts).
  const scraped = Registry.merge([metrics, eventMetrics]);

  app.use(helmet());
  app.use('/api', corsPolicy(deps.security.corsOrigins));
  app.use(
    pinoHttp({
      logger: deps.logger,
      // One id per request on every line about it, in the X-Request-Id answer header, and taken from
      // the caller's X-Request-Id when it is a plain token (a load balancer's, a partner's).
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customAttributeKeys: { reqId: 'requestId' },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // One line per request: method, path, status and time; headers (and their tokens) stay out of logs.
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }), res: (res: { statusCode: number }) => ({ status: res.statusCode }) },
    }),
  );
  // Everything the request does from here logs its id, and every workflow it starts, signals or updates gets it too.
  app.use((req, _res, next) => withLogContext({ requestId: String(req.id) }, next));
  app.use((req, res, next) => {
    const end = httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched', status: String(res.statusCode) }));
    next();
  });
  // The raw bytes are kept for partner request signatures (middleware/signing.ts).
  app.use(express.json({ limit: deps.jsonBodyLimit ?? '64kb', verify: captureRawBody }));

  passport.use(JWT_STRATEGY, deps.auth.strategy());
  app.use(passport.initialize());

  // Liveness: the process answers. Restarting it would not fix a database outage, so nothing else is checked here.
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Readiness: every dependency answers; a load balancer sends no traffic until then. Names only, no internals.
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(deps.readiness ?? {}).map(async ([name, check]) => {
        try {
          await withTimeout(check(), READINESS_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          deps.logger.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'failed'] as const;
        }
      }),
    );
    const ok = results.every(([, result]) => result === 'ok');
    res.setHeader('Cache-Control', 'no-store');
    res.status(ok ? 200 : 503).json({ ok, checks: Object.fromEntries(results) });
  });
  // Versions, memory and every route: for the scraper only (METRICS_TOKEN), never public in production.
  app.get('/metrics', async (req, res) => {
    const { metricsToken, production } = deps.security;
    if (metricsToken === null && production) return notFoundHandler(req, res);
    if (metricsToken !== null && !safeEqual(req.get('authorization') ?? '', `Bearer ${metricsToken}`)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      return res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.' } });
    }
    res.type(metrics.contentType).send(await scraped.metrics());
  });

  const rateLimits = new RateLimits({ redis: deps.redis, config: deps.security.rateLimits });
  const csrf = createCsrf({ secret: deps.security.csrfSecret, secure: deps.security.cookieSecure, sessionOf: refreshFamilyOf(deps.security.cookieSecure) });
  const purchaseLimit: RequestHandler = (req, res, next) => (req.method === 'POST' && req.path === '/' ? rateLimits.purchase(req, res, next) : next());
  const admin = Router();
  admin.use(adminRoutes(deps));
  admin.use(adminProviderRoutes(deps));
  admin.use('/audit', auditRoutes(deps));
  admin.use(paymentAdminRoutes(deps));

  app.use('/api', rateLimits.ip);
  // Customers, partners and admins can fix what they send: invalid text is refused here, once for
  // every route. Provider webhooks are not under /api: a provider's SMS is cleaned, never refused.
  app.use('/api', refuseInvalidText);
  app.use('/api/auth', authRoutes({ auth: deps.auth, rateLimits, csrf, security: deps.security }));
  app.use('/api/catalog', catalogRoutes(deps));
  app.use('/api/numbers', requireUser, rateLimits.user, purchaseLimit, numbersRoutes(deps));
  app.use('/api/wallet', requireUser, rateLimits.user, walletRoutes(deps));
  app.post('/api/events/ticket', requireUser, rateLimits.user, streamTicketRoute(deps.auth));
  app.get('/api/events', requireStreamUser(deps.auth), rateLimits.user, eventsRoute(deps.events));
  app.use('/api/payments', requireUser, rateLimits.user, paymentRoutes(deps));
  app.use('/api/keys', requireUser, rateLimits.user, apiKeyRoutes(deps));
  app.use('/api/webhook', requireUser, rateLimits.user, partnerWebhookRoutes(deps));
  app.use('/api/v1', v1Routes({ ...deps, rateLimits }));
  app.use('/api/admin', requireUser, rateLimits.user, requireAdmin, admin);
  app.use(
    '/webhooks',
    webhookRoutes({ intake: deps.intake, secretFor: (providerId) => deps.providerAdmin.webhookSecretOf(providerId, deps.webhookSecret), limit: rateLimits.webhook, logger: deps.logger }),
  );
  // The SMS-Activate protocol for partners' existing tools (docs/partners.md); not under /api: its errors are the protocol's tokens.
  const smsActivate = handlerApi({ ...deps, rateLimits });
  app.use(smsActivate.routes);
  app.use('/webhooks/payments', paymentWebhookRoutes({ payments: deps.payments, limit: rateLimits.webhook, logger: deps.logger }));
  app.use('/api', notFoundHandler);

  if (deps.serveUi) {
    for (const [mount, dir] of [['/admin', 'admin/dist'], ['/', 'web/dist']] as const) {
      const root = path.join(UI_ROOT, dir);
      if (existsSync(root)) app.use(mount, express.static(root, { index: 'index.html', maxAge: '1h' }));
    }
    // The links mailed for e-mail verification and password resets open the web app's own pages.
    const webIndex = path.join(UI_ROOT, 'web/dist/index.html');
    app.get(['/verify-email', '/reset-password'], (req, res, next) => {
      if (!existsSync(webIndex)) return next();
      res.setHeader('Cache-Control', 'no-store');
      // The token is in the query: the page must not hand it to other sites as a referrer.
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.sendFile(webIndex);
    });
  }

  app.use(notFoundHandler);
  app.use(Object.values(HANDLER_API_PATHS), smsActivate.unreadableBody);
  app.use(errorHandler(deps.logger));
  return app;
}

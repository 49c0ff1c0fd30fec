import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import helmet from 'helmet';
import passport from 'passport';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ActivationService } from '../activations/activation.service';
import type { AuthService } from '../auth/auth.service';
import type { CatalogService } from '../catalog/catalog.service';
import type { Db } from '../db/client';
import type { Logger } from '../lib/logger';
import type { WalletService } from '../wallet';
import { requireAdmin, requireUser } from './middleware/auth';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { adminRoutes } from './routes/admin';
import { authRoutes } from './routes/auth';
import { catalogRoutes } from './routes/catalog';
import type { ActivationEventHub } from './routes/events';
import { numbersRoutes } from './routes/numbers';
import { walletRoutes } from './routes/wallet';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  db: Db;
  temporal: Client;
  auth: AuthService;
  wallet: WalletService;
  catalog: CatalogService;
  activations: ActivationService;
  events: ActivationEventHub;
  logger: Logger;
  webhookSecret: string;
  jsonBodyLimit?: string;
  /** Serve the built web app at / and the admin panel at /admin/ when their dist folders exist. */
  serveUi?: boolean;
}

const UI_ROOT = path.resolve(__dirname, '../..');

/** Builds the Express app from its dependencies; does not listen (src/bin/api.ts does). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const httpDuration = new Histogram({
    name: 'simgate_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });

  app.use(helmet());
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // One line per request: method, path, status and time; headers (and their tokens) stay out of logs.
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }), res: (res: { statusCode: number }) => ({ status: res.statusCode }) },
    }),
  );
  app.use((req, res, next) => {
    const end = httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched', status: String(res.statusCode) }));
    next();
  });
  app.use(express.json({ limit: deps.jsonBodyLimit ?? '64kb' }));

  passport.use(deps.auth.strategy());
  app.use(passport.initialize());

  app.get('/healthz', async (_req, res) => {
    await deps.db.$queryRaw`SELECT 1`;
    res.json({ ok: true });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  app.use('/api/auth', authRoutes(deps));
  app.use('/api/catalog', catalogRoutes(deps));
  app.use('/api/numbers', requireUser, numbersRoutes(deps));
  app.use('/api/wallet', requireUser, walletRoutes(deps));
  app.get('/api/events', requireUser, deps.events.handler);
  app.use('/api/admin', requireUser, requireAdmin, adminRoutes(deps));
  app.use('/webhooks', webhookRoutes({ db: deps.db, temporal: deps.temporal, secret: deps.webhookSecret, logger: deps.logger }));
  app.use('/api', notFoundHandler);

  if (deps.serveUi) {
    for (const [mount, dir] of [['/admin', 'admin/dist'], ['/', 'web/dist']] as const) {
      const root = path.join(UI_ROOT, dir);
      if (existsSync(root)) app.use(mount, express.static(root, { index: 'index.html', maxAge: '1h' }));
    }
  }

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

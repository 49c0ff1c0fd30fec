import { randomInt } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../config/app.config';
import { createContainer } from '../container';
import { applyMigrations } from '../db/migrate';
import { createLogger } from '../lib/logger';
import { seedCatalog, startActivationWorker, startApi, startBackgroundWork } from '../runtime';
import { createPaymentSimulator } from '../payment-simulator';
import { createSimulator, defaultTenants, type AutoSmsConfig } from '../simulator';
import { startDevServer } from '../temporal/dev-server';
import { startupBanner } from './banner';
import { runMain } from './main';

/**
 * The demo's automatic SMS: about nine numbers in ten get one, 5–25 s after the purchase, so a
 * visitor sees the product work; the rest expire (or can be cancelled) and are refunded.
 */
const DEMO_AUTO_SMS: AutoSmsConfig = { probability: 0.9, minDelayMs: 5_000, maxDelayMs: 25_000 };

/** Simulator tenant → the provider id it is configured as (src/config/providers.config.ts). */
const TENANT_PROVIDER: Record<string, string> = { hero: 'hero-sim', activate: 'activate-sim' };

/**
 * `npm start`: the whole system on embedded defaults — Temporal dev server (persisted under
 * DATA_DIR, with its Web UI), migrations, the provider simulator, catalog seed, worker and API.
 */
/** What the payment simulator and SimGate agree on in development: published, simulator-only keys. */
const SIMULATED_PROCESSORS = {
  stripe: { secretKey: 'sk_test_simgate_payment_simulator', webhookSecret: 'whsec_simgate_payment_simulator' },
  nowpayments: { apiKey: 'simgate-payment-simulator', ipnSecret: 'simgate-payment-simulator-ipn' },
};

/**
 * Outside production, with no real processor configured, Stripe and NOWPayments are the payment
 * simulator's (their SDK and client pointed at it), beside the sandbox: every payment page can be tried.
 */
function simulatedProcessorsEnv(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (source.NODE_ENV === 'production' || source.STRIPE_SECRET_KEY || source.NOWPAYMENTS_API_KEY) return source;
  const base = `http://127.0.0.1:${source.PAYMENT_SIMULATOR_PORT || 4020}`;
  return {
    ...source,
    STRIPE_SECRET_KEY: SIMULATED_PROCESSORS.stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: SIMULATED_PROCESSORS.stripe.webhookSecret,
    STRIPE_API_BASE: base,
    NOWPAYMENTS_API_KEY: SIMULATED_PROCESSORS.nowpayments.apiKey,
    NOWPAYMENTS_IPN_SECRET: SIMULATED_PROCESSORS.nowpayments.ipnSecret,
    NOWPAYMENTS_API_BASE: `${base}/v1`,
  };
}

runMain(async () => {
  const simulatedProcessors = process.env.NODE_ENV !== 'production' && !process.env.STRIPE_SECRET_KEY && !process.env.NOWPAYMENTS_API_KEY;
  const config = loadConfig(simulatedProcessorsEnv(process.env));
  const { env } = config;
  const logger = createLogger(env.LOG_LEVEL);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => logger.error({ err: error }, 'stop failed'));
  };
  try {
    const temporalPort = Number(env.TEMPORAL_ADDRESS.split(':').pop());
    logger.info('starting Temporal dev server…');
    const temporal = await startDevServer({
      port: temporalPort,
      uiPort: env.TEMPORAL_UI_PORT,
      dbFile: path.resolve(env.DATA_DIR, 'temporal.db'),
      namespace: env.TEMPORAL_NAMESPACE,
      cli: env.TEMPORAL_CLI,
    });
    stops.push(() => temporal.stop());

    const migrations = await applyMigrations(env.DATABASE_URL);
    logger.info({ applied: migrations.applied }, 'database migrated');

    // The simulator is a development stand-in for the providers: production trades with PROVIDERS_JSON only.
    let simulatorUrl: string | null = null;
    if (!config.security.production) {
      const apiBase = `http://${env.HOST}:${env.PORT}`;
      // Fresh per start unless SIMULATOR_SEED pins it: a fixed seed replays the same phones, codes
      // and SMS-or-not after every restart (the same four numbers without an SMS, every time).
      const eventSeed = env.SIMULATOR_SEED ?? randomInt(2 ** 32);
      logger.info({ seed: eventSeed }, 'simulator seed (SIMULATOR_SEED to replay it)');
      const simulator = createSimulator({
        logger: createLogger(env.LOG_LEVEL, 'simulator'),
        // The simulator forgets its activations on restart but our database does not: number this
        // run's activations after the last run's, as a real provider's ids never repeat.
        firstActivationId: 3_400_000_000 + Math.floor(Date.now() / 1000) * 100,
        tenants: defaultTenants({ autoSms: DEMO_AUTO_SMS }).map((tenant, index) => ({
          ...tenant,
          eventSeed: (eventSeed + index * 0x9e3779b9) >>> 0,
          webhookUrl: `${apiBase}/webhooks/providers/${TENANT_PROVIDER[tenant.id]}?secret=${encodeURIComponent(env.PROVIDER_WEBHOOK_SECRET)}`,
        })),
      });
      const sim = await simulator.listen(env.SIMULATOR_PORT, '127.0.0.1');
      stops.push(() => simulator.close());
      simulatorUrl = sim.url;
    }
    if (simulatedProcessors) {
      const payments = createPaymentSimulator({
        stripe: { ...SIMULATED_PROCESSORS.stripe, webhookUrl: `http://${env.HOST}:${env.PORT}/webhooks/payments/stripe` },
        nowpayments: SIMULATED_PROCESSORS.nowpayments,
        logger: createLogger(env.LOG_LEVEL, 'payment-simulator'),
      });
      await payments.listen(env.PAYMENT_SIMULATOR_PORT, '127.0.0.1');
      stops.push(() => payments.close());
    }

    const container = await createContainer(config, {
      logger,
      // No mail leaves a development machine: verification and reset links are printed here instead.
      echoMail: (mail) => process.stdout.write(`\n  ✉  to ${mail.to}: ${mail.subject}\n${mail.text.replace(/^/gm, '     ')}\n\n`),
    });
    stops.push(() => container.close());
    const seeded = await seedCatalog(container);
    // With a setup token the first admin is created through POST /api/auth/setup, never from a password in the environment.
    if (!env.ADMIN_SETUP_TOKEN) await container.auth.ensureAdmin(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);

    const worker = await startActivationWorker(container, { metrics: { host: env.HOST, port: env.WORKER_METRICS_PORT } });
    stops.push(() => worker.shutdown());
    await startBackgroundWork(container);
    const api = await startApi(container, { port: env.PORT, host: env.HOST, serveUi: true });
    stops.push(() => api.close());

    process.stdout.write(
      startupBanner(env, {
        api: api.url,
        temporalUi: temporal.uiUrl,
        simulator: simulatorUrl,
        catalog: `${seeded.offers} offers${seeded.failed.length ? ` (sync failed: ${seeded.failed.join(', ')})` : ''}`,
      }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
});

import { parseEnv } from '../config/env.schema';
import { createLogger } from '../lib/logger';
import { createSimulator, defaultTenants } from '../simulator';

/**
 * Runs the provider simulator on its own: `hero` (HeroSMS-style errors) and `activate`
 * (classic SMS-Activate) on 127.0.0.1:SIMULATOR_PORT (default 4010), until SIGINT/SIGTERM.
 * SIMULATOR_WEBHOOK_URL, when set, receives every delivered SMS; SIMULATOR_AUTO_SMS=1 makes most
 * numbers receive a code on their own after 5–30 s, for demos without a script.
 */
async function main(): Promise<void> {
  const env = parseEnv();
  const logger = createLogger(env.LOG_LEVEL, 'simulator');
  const autoSms = process.env.SIMULATOR_AUTO_SMS === '1' ? { probability: 0.8, minDelayMs: 5_000, maxDelayMs: 30_000 } : null;
  const simulator = createSimulator({ tenants: defaultTenants({ webhookUrl: process.env.SIMULATOR_WEBHOOK_URL || null, autoSms }), logger });
  const { url } = await simulator.listen(env.SIMULATOR_PORT);
  logger.info({ hero: `${url}/hero/stubs/handler_api.php`, activate: `${url}/activate/stubs/handler_api.php`, control: `${url}/control/tenants` }, 'simulator ready');

  const stop = (signal: string) => {
    logger.info({ signal }, 'simulator stopping');
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'simulator did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  createLogger('error', 'simulator').fatal({ err: error }, 'simulator failed to start');
  process.exit(1);
});

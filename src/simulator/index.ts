import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { createLogger, type Logger } from '../lib/logger';
import { createClock, type SimClock } from './clock';
import { controlRouter } from './control';
import { handlerApiRouter } from './handler-api';
import { SimTenant, type AutoSmsConfig, type TenantConfig } from './tenant';
import { TimerSet } from './timers';

export type { AutoSmsConfig, ErrorStyle, SimActivation, TenantConfig, TenantSettings } from './tenant';
export { SimTenant } from './tenant';
export type { SimClock } from './clock';
export type { Fault, FaultReply } from './faults';

export interface SimulatorOptions {
  tenants: TenantConfig[];
  /** Base clock (default Date.now); the control API's offset is added to it. */
  now?: () => number;
  logger?: Logger;
  /** How often running activations are expired in the background while listening (default 1 s; 0 = never). */
  sweepIntervalMs?: number;
}

export interface Simulator {
  /** The Express app; does not listen until listen() is called. */
  readonly app: Express;
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /** Direct state access for tests: tenant by id. */
  readonly tenants: ReadonlyMap<string, SimTenant>;
  readonly clock: SimClock;
}

/** Path segments under /control that are routes, not tenants. */
const RESERVED_IDS = new Set(['tenants', 'clock']);

/** First activation id: past 2^31 on purpose, as on the real services, so 32-bit assumptions break in tests. */
const FIRST_ACTIVATION_ID = 3_400_000_001;

/**
 * A multi-tenant SMS-Activate-protocol provider: each tenant answers at
 * `/<id>/stubs/handler_api.php`, and `/control` scripts them. See DESIGN.md "Providers".
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const logger = options.logger ?? createLogger(process.env.LOG_LEVEL ?? 'info', 'simulator');
  const clock = createClock(options.now);
  const timers = new TimerSet();
  let nextId = FIRST_ACTIVATION_ID;
  const deps = { clock, logger, nextActivationId: () => nextId++ };

  const tenants = new Map<string, SimTenant>();
  for (const config of options.tenants) {
    if (!/^[a-z0-9-]+$/.test(config.id) || RESERVED_IDS.has(config.id)) throw new Error(`simulator: bad tenant id "${config.id}"`);
    if (tenants.has(config.id)) throw new Error(`simulator: duplicate tenant id "${config.id}"`);
    tenants.set(config.id, new SimTenant(config, deps));
  }
  const sweep = () => {
    for (const tenant of tenants.values()) tenant.sweep();
  };

  const app = express();
  app.disable('x-powered-by');
  app.use('/control', controlRouter({ tenants, clock, sweep, logger }));
  // Form bodies only for the provider endpoint; some clients POST with no body and no content type.
  app.use(express.urlencoded({ extended: false, limit: '16kb' }), handlerApiRouter({ tenants, timers, logger }));

  let server: Server | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  return {
    app,
    tenants,
    clock,
    async listen(port, host = '127.0.0.1') {
      if (server) throw new Error('simulator: already listening');
      const listening = app.listen(port, host);
      server = listening;
      try {
        await once(listening, 'listening');
      } catch (error) {
        server = null;
        throw error;
      }
      const interval = options.sweepIntervalMs ?? 1000;
      if (interval > 0) {
        sweeper = setInterval(sweep, interval);
        sweeper.unref();
      }
      const actual = (listening.address() as AddressInfo).port;
      logger.info({ port: actual, tenants: [...tenants.keys()] }, 'simulator listening');
      return { url: `http://${host}:${actual}`, port: actual };
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      sweeper = null;
      timers.clear();
      for (const tenant of tenants.values()) tenant.dispose();
      const closing = server;
      server = null;
      if (!closing) return;
      // Requests parked in injected latency would otherwise hold close() open.
      closing.closeAllConnections();
      await new Promise<void>((resolve, reject) => closing.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * The two providers `npm start` trades with (src/config/providers.config.ts expects exactly
 * these ids and keys): a HeroSMS-style one and a classic SMS-Activate one.
 */
export function defaultTenants(options: { webhookUrl?: string | null; autoSms?: AutoSmsConfig | null } = {}): TenantConfig[] {
  const shared = { webhookUrl: options.webhookUrl ?? null, autoSms: options.autoSms ?? null };
  return [
    { id: 'hero', apiKey: 'sim-hero-key', errorStyle: 'hero', ...shared },
    { id: 'activate', apiKey: 'sim-activate-key', errorStyle: 'classic', ...shared },
  ];
}

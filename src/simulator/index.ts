import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import pino, { type Logger } from 'pino';
import { createClock, type SimClock } from './clock';
import { controlRouter } from './control';
import { fivesimRouter } from './fivesim/router';
import { handlerApiRouter } from './handler-api';
import type { AutoSmsConfig, TenantConfig } from './tenant-base';
import { createTenant, type AnyTenant } from './tenants';
import { TimerSet } from './timers';

export type { AutoSmsConfig, ErrorStyle, Protocol, SimOrder, TenantConfig, TenantSettings } from './tenant-base';
export type { SimActivation } from './tenant';
export { SimTenant } from './tenant';
export { FivesimTenant, type FivesimOrder } from './fivesim/tenant';
export type { FivesimStatus } from './fivesim/state';
export type { AnyTenant } from './tenants';
export type { SimClock } from './clock';
export type { Fault, FaultReply } from './faults';
export type { Scenario } from './scenarios';

export interface SimulatorOptions {
  tenants: TenantConfig[];
  /** Base clock (default Date.now); the control API's offset is added to it. */
  now?: () => number;
  logger?: Logger;
  /** How often running activations are expired in the background while listening (default 1 s; 0 = never). */
  sweepIntervalMs?: number;
  /**
   * First activation id handed out (default 3 400 000 001). Several simulators writing to one
   * database (parallel test systems, a restarted dev stack) need disjoint id ranges, or their
   * activations collide on the (provider, upstream id) key.
   */
  firstActivationId?: number;
}

export interface Simulator {
  /** The Express app; does not listen until listen() is called. */
  readonly app: Express;
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /** Direct state access for tests: tenant by id (SimTenant for handler_api, FivesimTenant for 5sim). */
  readonly tenants: ReadonlyMap<string, AnyTenant>;
  readonly clock: SimClock;
}

/** Path segments under /control that are routes, not tenants. */
const RESERVED_IDS = new Set(['tenants', 'clock']);

/** First activation id: past 2^31 on purpose, as on the real services, so 32-bit assumptions break in tests. */
const FIRST_ACTIVATION_ID = 3_400_000_001;

/**
 * A multi-tenant upstream provider: each tenant speaks the SMS-Activate `handler_api` protocol
 * at `/<id>/stubs/handler_api.php`, or 5sim v1 at `/<id>/v1/...` (`protocol: 'fivesim'`), and
 * `/control` scripts them all. See DESIGN.md "Providers".
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const logger = options.logger ?? pino({ name: 'simulator', level: process.env.LOG_LEVEL ?? 'info' });
  const clock = createClock(options.now);
  const timers = new TimerSet();
  let nextId = options.firstActivationId ?? FIRST_ACTIVATION_ID;
  const deps = { clock, logger, nextActivationId: () => nextId++ };

  const tenants = new Map<string, AnyTenant>();
  for (const config of options.tenants) {
    if (!/^[a-z0-9-]+$/.test(config.id) || RESERVED_IDS.has(config.id)) throw new Error(`simulator: bad tenant id "${config.id}"`);
    if (tenants.has(config.id)) throw new Error(`simulator: duplicate tenant id "${config.id}"`);
    tenants.set(config.id, createTenant(config, deps));
  }
  const sweep = () => {
    for (const tenant of tenants.values()) tenant.sweep();
  };

  const app = express();
  app.disable('x-powered-by');
  app.use('/control', controlRouter({ tenants, clock, sweep, logger }));
  // 5sim is all GET with a bearer token: no body parsing.
  app.use(fivesimRouter({ tenants, timers, logger }));
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

/** The 5sim tenant's default bearer token: shaped like 5sim's JWTs (three base64url parts), signed by nobody. */
export const FIVESIM_SIM_TOKEN =
  'eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQ5MDAwMDAwMDAsImlhdCI6MTc2NzYwNzIwMCwicmF5IjoiMSIsInN1YiI6MX0.c2ltZ2F0ZS1maXZlc2ltLXNpbXVsYXRvcg';

/**
 * A 5sim tenant to run next to defaultTenants() (which stays the two handler_api tenants):
 * answers at `/<id>/v1/...`, id `fivesim` by default, so the adapter's base URL is
 * `<simulator>/fivesim/v1` with FIVESIM_SIM_TOKEN. `options` override the rest of the config
 * (lifetime, cancel lock, allocation delay, rate limit, webhook, seed…).
 */
export function fivesimTenant(options: Partial<Omit<TenantConfig, 'protocol' | 'errorStyle' | 'defaultCountry' | 'cancelAlreadyReply'>> = {}): TenantConfig {
  return { id: 'fivesim', apiKey: FIVESIM_SIM_TOKEN, webhookUrl: null, autoSms: null, ...options, protocol: 'fivesim' };
}

import pino from 'pino';
import { createSimulator, type Simulator, type TenantConfig } from '../../src/simulator';

/** The simulator's base clock in these tests: frozen, so time moves only when a test moves it (`POST /control/clock`). */
export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

/** The handler_api family's behaviours: classic bare tokens, HeroSMS's status-coded JSON, and a clone that answers a repeated cancel with ACCESS_CANCEL_ALREADY. */
export const HANDLER_API_KEYS = { classic: 'key-classic', hero: 'key-hero', clone: 'key-clone' } as const;
export const HANDLER_API_TENANTS: TenantConfig[] = [
  { id: 'classic', apiKey: HANDLER_API_KEYS.classic, errorStyle: 'classic' },
  { id: 'hero', apiKey: HANDLER_API_KEYS.hero, errorStyle: 'hero' },
  { id: 'clone', apiKey: HANDLER_API_KEYS.clone, errorStyle: 'classic', cancelAlreadyReply: true },
];

export interface TestSimulator extends Pick<Simulator, 'tenants' | 'clock'> {
  /** Where it listens, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** A control API call over HTTP: the status and the JSON body. */
  control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** Back to the tenant's seeded state, then known offers (by `service/country`) and balance, whatever the seed drew. */
  reset(tenant: string, known: { offers: Record<string, Record<string, unknown>>; balance: string }): Promise<void>;
}

/**
 * One simulator for the test file, listening on a free port from beforeAll to afterAll: the
 * clock frozen at T0, no background expiry sweep (expiry happens when a test moves the clock),
 * no log output.
 */
export function useSimulator(tenants: TenantConfig[]): TestSimulator {
  let simulator: Simulator;
  let url: string;

  beforeAll(async () => {
    simulator = createSimulator({ now: () => T0, logger: pino({ level: 'silent' }), sweepIntervalMs: 0, tenants });
    ({ url } = await simulator.listen(0));
  });
  afterAll(() => simulator?.close());

  const control: TestSimulator['control'] = async (method, path, body) => {
    const response = await fetch(`${url}/control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  return {
    get url() {
      return url;
    },
    get tenants() {
      return simulator.tenants;
    },
    get clock() {
      return simulator.clock;
    },
    control,
    async reset(tenant, known) {
      await control('POST', `/${tenant}/reset`);
      for (const [offer, values] of Object.entries(known.offers)) await control('PUT', `/${tenant}/offers/${offer}`, values);
      await control('PUT', `/${tenant}/balance`, { balance: known.balance });
    },
  };
}

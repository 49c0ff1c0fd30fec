import { z } from 'zod';
import type { Env } from './env.schema';

/**
 * Upstream providers come from configuration: an SMS-Activate-protocol provider (HeroSMS,
 * Grizzly, SMS-Man, …) is one entry with its base URL and key, no code.
 */
export const providerConfigSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lower-case letters, digits and dashes'),
  displayName: z.string().min(1),
  protocol: z.literal('SMS_ACTIVATE'),
  /** Full handler_api URL, e.g. https://hero-sms.com/stubs/handler_api.php */
  baseUrl: z.url(),
  apiKey: z.string().min(1),
  /** USD per one unit of the provider's currency, as a decimal string ("1" for USD, "0.0108" for RUB). */
  usdRate: z.string().regex(/^\d+(\.\d+)?$/).default('1'),
  markupBps: z.number().int().min(0).max(100_000).default(2500),
  /** How long a bought number lives at the provider. */
  lifetimeSeconds: z.number().int().min(10).default(1200),
  /** The provider refuses cancellation before this (EARLY_CANCEL_DENIED). */
  minCancelSeconds: z.number().int().min(0).default(120),
  requestTimeoutMs: z.number().int().min(100).default(10_000),
  /** Which country numbering the provider uses: SMS-Activate's (Russia = 0) or HeroSMS's (Russia = 222). */
  countryIds: z.enum(['sms-activate', 'herosms']).default('sms-activate'),
});

export type ProviderConfig = z.infer<typeof providerConfigSchema>;

/** Two tenants of the bundled simulator: what `npm start` trades with when nothing is configured. */
export function simulatorProviders(simulatorBaseUrl: string): ProviderConfig[] {
  return [
    providerConfigSchema.parse({
      id: 'hero-sim',
      displayName: 'HeroSMS (simulated)',
      protocol: 'SMS_ACTIVATE',
      baseUrl: `${simulatorBaseUrl}/hero/stubs/handler_api.php`,
      apiKey: 'sim-hero-key',
      markupBps: 2500,
      countryIds: 'herosms',
    }),
    providerConfigSchema.parse({
      id: 'activate-sim',
      displayName: 'SMS-Activate (simulated)',
      protocol: 'SMS_ACTIVATE',
      baseUrl: `${simulatorBaseUrl}/activate/stubs/handler_api.php`,
      apiKey: 'sim-activate-key',
      markupBps: 3000,
    }),
  ];
}

export function loadProviders(env: Pick<Env, 'PROVIDERS_JSON' | 'SIMULATOR_PORT'>): ProviderConfig[] {
  if (!env.PROVIDERS_JSON) return simulatorProviders(`http://127.0.0.1:${env.SIMULATOR_PORT}`);
  let raw: unknown;
  try {
    raw = JSON.parse(env.PROVIDERS_JSON);
  } catch {
    throw new Error('PROVIDERS_JSON: not valid JSON');
  }
  const parsed = z.array(providerConfigSchema).min(1).safeParse(raw);
  if (!parsed.success) {
    throw new Error(`PROVIDERS_JSON: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

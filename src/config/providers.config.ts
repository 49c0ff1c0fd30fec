import { z } from 'zod';
import { ConfigError, type Env } from './env.schema';

/** PostgreSQL's int, the columns these numbers are stored in; also below Node's timer limit (2^31 − 1 ms). */
const PG_INT_MAX = 2_147_483_647;

/**
 * Upstream providers come from configuration: an SMS-Activate-protocol provider (HeroSMS,
 * Grizzly, SMS-Man, …) is one entry with its base URL and key, no code.
 */
export const providerConfigSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lower-case letters, digits and dashes'),
  displayName: z.string().min(1),
  /** SMS_ACTIVATE: the handler_api family (SMS-Activate, HeroSMS, clones); FIVESIM: 5sim.net v1. */
  protocol: z.enum(['SMS_ACTIVATE', 'FIVESIM']),
  /** SMS_ACTIVATE: the full handler_api URL, e.g. https://hero-sms.com/stubs/handler_api.php; FIVESIM: the v1 root, e.g. https://5sim.net/v1 */
  baseUrl: z.url(),
  apiKey: z.string().min(1),
  /** USD per one unit of the provider's currency, as a decimal string ("1" for USD, "0.0108" for RUB). */
  usdRate: z.string().regex(/^\d+(\.\d+)?$/).default('1'),
  markupBps: z.number().int().min(0).max(100_000).default(2500),
  /** How long a bought number lives at the provider. */
  lifetimeSeconds: z.number().int().min(10).max(PG_INT_MAX).default(1200),
  /** The provider refuses cancellation before this (EARLY_CANCEL_DENIED). */
  minCancelSeconds: z.number().int().min(0).max(PG_INT_MAX).default(120),
  requestTimeoutMs: z.number().int().min(100).max(PG_INT_MAX).default(10_000),
  /** A provider listed in configuration is (re)enabled at start unless this says otherwise. */
  enabled: z.boolean().default(true),
  /** Which country (and service) naming the provider uses: SMS-Activate's (Russia = 0), HeroSMS's (Russia = 222) or 5sim's slugs (`russia`, `telegram`). */
  countryIds: z.enum(['sms-activate', 'herosms', 'fivesim']).default('sms-activate'),
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

/** At least one provider, each id once (ids key the registry, offers and activations). */
const providerListSchema = z
  .array(providerConfigSchema)
  .min(1, 'must list at least one provider')
  .superRefine((providers, ctx) => {
    const seen = new Set<string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate provider id "${provider.id}"` });
      seen.add(provider.id);
    });
  });

/** The configured providers; a bad PROVIDERS_JSON is a ConfigError naming every problem (never echoing the JSON: it holds API keys). */
export function loadProviders(env: Pick<Env, 'PROVIDERS_JSON' | 'SIMULATOR_PORT'>): ProviderConfig[] {
  if (!env.PROVIDERS_JSON) return simulatorProviders(`http://127.0.0.1:${env.SIMULATOR_PORT}`);
  let raw: unknown;
  try {
    raw = JSON.parse(env.PROVIDERS_JSON);
  } catch {
    throw new ConfigError(['PROVIDERS_JSON: not valid JSON']);
  }
  const parsed = providerListSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `PROVIDERS_JSON${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`),
    );
  }
  return parsed.data;
}

import { loadProviders, type ProviderConfig } from './providers.config';
import { parseEnv, type Env } from './env.schema';

export interface AppConfig {
  env: Readonly<Env>;
  providers: readonly ProviderConfig[];
  activation: {
    /** First fallback poll of the provider after purchase; doubles up to pollMaxMs. */
    pollInitialMs: number;
    pollMaxMs: number;
  };
  limits: {
    jsonBodyBytes: string;
    catalogPageSize: number;
  };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<AppConfig> {
  const env = parseEnv(source);
  return Object.freeze({
    env,
    providers: Object.freeze(loadProviders(env)),
    activation: { pollInitialMs: env.POLL_INITIAL_MS, pollMaxMs: Math.max(env.POLL_MAX_MS, env.POLL_INITIAL_MS) },
    limits: { jsonBodyBytes: '64kb', catalogPageSize: 50 },
  });
}

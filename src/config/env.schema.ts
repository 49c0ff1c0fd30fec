import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/**
 * Every setting SimGate reads from the environment. Defaults make `npm start` work on a fresh
 * machine with the local PostgreSQL, Redis and the embedded Temporal dev server; production
 * must override the secrets (enforced below).
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(3000),
    PUBLIC_URL: z.url().optional(),
    DATA_DIR: z.string().min(1).default('data'),

    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .default('postgresql://postgres@127.0.0.1:5432/simgate'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').default('redis://127.0.0.1:6379'),

    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('simgate-activations'),
    TEMPORAL_UI_PORT: port.default(8233),
    TEMPORAL_CLI: z.string().optional(),

    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default('dev-only-secret-change-me-in-production-0123456789'),
    JWT_ISSUER: z.string().min(1).default('simgate'),
    JWT_AUDIENCE: z.string().min(1).default('simgate-api'),
    JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),

    PROVIDER_WEBHOOK_SECRET: z.string().min(16).default('dev-provider-webhook-secret'),
    /** `<version>:<base64 32-byte key>[,…]`: AES-256-GCM keys for secrets at rest; the highest version encrypts. */
    SECRETS_KEYS: z.string().optional(),
    PROVIDERS_JSON: z.string().optional(),

    SIMULATOR_PORT: port.default(4010),
    SIMULATOR_ENABLED: bool.default(true),

    POLL_INITIAL_MS: z.coerce.number().int().min(100).default(3000),
    POLL_MAX_MS: z.coerce.number().int().min(100).default(30_000),

    SEARCH_ENGINE: z.enum(['postgres', 'meilisearch']).default('postgres'),
    MEILI_URL: z.url().optional(),
    MEILI_API_KEY: z.string().optional(),

    ADMIN_EMAIL: z.email().default('admin@simgate.local'),
    ADMIN_PASSWORD: z.string().min(8).default('admin-password'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (env.JWT_SECRET.startsWith('dev-only-')) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be set in production' });
    }
    if (env.PROVIDER_WEBHOOK_SECRET.startsWith('dev-')) {
      ctx.addIssue({ code: 'custom', path: ['PROVIDER_WEBHOOK_SECRET'], message: 'must be set in production' });
    }
    if (!env.SECRETS_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['SECRETS_KEYS'], message: 'must be set in production' });
    }
    if (env.SEARCH_ENGINE === 'meilisearch' && !env.MEILI_URL) {
      ctx.addIssue({ code: 'custom', path: ['MEILI_URL'], message: 'required when SEARCH_ENGINE=meilisearch' });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws a ConfigError naming every bad variable, not just the first. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Readonly<Env> {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  return Object.freeze(result.data);
}

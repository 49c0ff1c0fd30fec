import { z } from 'zod';
import { adminPasswordWeakness, keyWeakness, secretWeakness } from './secret-strength';

/** Published in this repository: usable on a laptop, never in production. */
const DEVELOPMENT_DEFAULTS: Record<string, string> = {
  JWT_SECRET: 'dev-only-secret-change-me-in-production-0123456789',
  PROVIDER_WEBHOOK_SECRET: 'dev-provider-webhook-secret',
};

/** Optional text where an empty value (`FOO=` in a compose file or .env) means "unset". */
const optionalText = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

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
    /** Every Redis key and pub/sub channel of this deployment starts with it: deployments sharing a Redis stay apart. */
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only').default('simgate'),

    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('simgate-activations'),
    TEMPORAL_UI_PORT: port.default(8233),
    /** Where admins open a workflow in the Temporal Web UI (the admin panel's deep links); default http://127.0.0.1:<TEMPORAL_UI_PORT>. */
    TEMPORAL_UI_URL: z.url().optional(),
    TEMPORAL_CLI: z.string().optional(),
    /** The worker process's own GET /metrics (our counters and the Temporal SDK's), on HOST; 0 = any free port. */
    WORKER_METRICS_PORT: port.default(9464),
    /** Loopback port of the Temporal SDK's Prometheus exporter, which the worker's /metrics includes; 0 = any free port. */
    TEMPORAL_SDK_METRICS_PORT: port.default(0),
    /** A prebuilt workflow bundle for the worker to load (default: dist/workflow-bundle.js when built, else bundle at start). */
    WORKFLOW_BUNDLE: z.string().min(1).optional(),

    // ── Worker tuning (src/temporal/worker.ts): unset = the SDK's defaults, which `npm run bench` measured best on 2 cores (README "Benchmarks") ──
    /** Workflow executions kept in memory between their tasks (every waiting activation is one); an evicted one replays its history on its next task. */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
    /** Workflow tasks (with their local activities: hold, buy, record) run at once by one worker. */
    WORKER_WORKFLOW_TASK_SLOTS: z.coerce.number().int().min(2).max(10_000).optional(),
    /** Concurrent workflow-task polls; at most WORKER_WORKFLOW_TASK_SLOTS. */
    WORKER_WORKFLOW_TASK_POLLS: z.coerce.number().int().min(2).max(1000).optional(),
    WORKER_LOCAL_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(10_000).optional(),
    /** Remote activities (catalog sync, inbox polls, webhook deliveries, top-ups) run at once. */
    WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(10_000).optional(),
    /** One V8 context per workflow thread, reused by every workflow (false: a context per workflow, costlier to create). */
    WORKER_REUSE_V8_CONTEXT: bool.default(true),
    WORKER_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(64).optional(),

    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_DEFAULTS.JWT_SECRET),
    JWT_ISSUER: z.string().min(1).default('simgate'),
    JWT_AUDIENCE: z.string().min(1).default('simgate-api'),
    /** Access tokens are short-lived; the refresh cookie (below) gets a new one. */
    JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),

    // ── Accounts and request security (src/auth, src/http/middleware; see docs/auth.md) ──
    REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(90 * 86_400).default(14 * 86_400),
    /** Secure flag of the auth cookies; `false` only for plain-http localhost development (refused in production). */
    AUTH_COOKIE_SECURE: bool.optional(),
    /** HMAC secret of the CSRF double-submit tokens; derived from JWT_SECRET when unset. */
    CSRF_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Comma-separated origins allowed to call the API from a browser (CORS); empty = same origin only. */
    CORS_ORIGINS: z.string().default(''),
    EMAIL_VERIFICATION_TTL_SECONDS: z.coerce.number().int().min(1).default(86_400),
    PASSWORD_RESET_TTL_SECONDS: z.coerce.number().int().min(1).default(3600),
    /** Partner request signatures are accepted within ± this many seconds of the server clock. */
    SIGNATURE_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
    /** Rate limits (Redis, shared by every API process): points per window, per key. */
    RATE_LIMIT_ENABLED: bool.default(true),
    /** Rate-limit, lockout and nonce keys; `<REDIS_PREFIX>:rl` when unset. */
    RATE_LIMIT_PREFIX: z.string().min(1).optional(),
    RATE_LIMIT_IP_POINTS: z.coerce.number().int().min(1).default(1200),
    RATE_LIMIT_IP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    RATE_LIMIT_USER_POINTS: z.coerce.number().int().min(1).default(600),
    RATE_LIMIT_USER_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    RATE_LIMIT_API_KEY_POINTS: z.coerce.number().int().min(1).default(300),
    RATE_LIMIT_API_KEY_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    RATE_LIMIT_LOGIN_POINTS: z.coerce.number().int().min(1).default(20),
    RATE_LIMIT_LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    RATE_LIMIT_PURCHASE_POINTS: z.coerce.number().int().min(1).default(30),
    RATE_LIMIT_PURCHASE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    /** Provider webhooks (/webhooks/providers/*), per client IP. */
    RATE_LIMIT_WEBHOOK_POINTS: z.coerce.number().int().min(1).default(600),
    RATE_LIMIT_WEBHOOK_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    /** Login lockout: failures per e-mail + IP, and per e-mail from anywhere, within the window. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).default(20),
    LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    /** First lockout; each further lockout of the same e-mail within a day doubles it, up to the max. */
    LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(300),
    LOGIN_LOCKOUT_MAX_SECONDS: z.coerce.number().int().min(1).default(86_400),

    PROVIDER_WEBHOOK_SECRET: z.string().min(16).default(DEVELOPMENT_DEFAULTS.PROVIDER_WEBHOOK_SECRET),
    /** `<version>:<base64 32-byte key>[,…]`: AES-256-GCM keys for secrets at rest; the highest version encrypts. */
    SECRETS_KEYS: z.string().optional(),
    PROVIDERS_JSON: z.string().optional(),

    SIMULATOR_PORT: port.default(4010),
    SIMULATOR_ENABLED: bool.default(true),
    /** `npm start` outside production: the payment simulator (Stripe + NOWPayments) when no real processor key is set. */
    PAYMENT_SIMULATOR_PORT: port.default(4020),
    /** Seed of the demo simulator's phones, codes and automatic SMS; unset = a fresh one per start. */
    SIMULATOR_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),

    /**
     * Per-activation status polls are the slow fallback (issue 11): each provider's inbox poller
     * (INBOX_INTERVAL_MS) and webhooks deliver SMS; this catches a number they cannot see, well
     * before a 20-minute lifetime ends (and the expiry's own cancel finds any SMS left).
     */
    POLL_INITIAL_MS: z.coerce.number().int().min(100).default(600_000),
    POLL_MAX_MS: z.coerce.number().int().min(100).default(600_000),
    /** One getActiveActivations per provider this often, for all its waiting numbers (workflows/provider-inbox.ts). */
    INBOX_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
    /** How often each worker checks that every enabled provider (added at run time too) has its inbox poller. */
    INBOX_SUPERVISE_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
    /** How often each provider's inbox reconciles the provider's open sales with our records. */
    RECONCILE_EVERY_MS: z.coerce.number().int().min(1000).default(60_000),
    /** How long a number no purchase owns stays open before reconciliation cancels it as an orphan. */
    ORPHAN_GRACE_MS: z.coerce.number().int().min(10_000).default(120_000),

    // ── Partner webhooks (docs/webhooks.md) ──
    /** One delivery attempt's budget: connect, send and the status line. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Pause after a failed delivery, doubling up to WEBHOOK_RETRY_MAX_MS; retried for 25 h, endpoint disabled after 24 h of failures. */
    WEBHOOK_RETRY_INITIAL_MS: z.coerce.number().int().min(100).default(10_000),
    WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(100).default(3_600_000),

    SEARCH_ENGINE: z.enum(['postgres', 'meilisearch']).default('postgres'),
    MEILI_URL: z.url().optional(),
    MEILI_API_KEY: z.string().optional(),
    /** Index uid prefix: `<prefix>services`, `<prefix>countries` (tests and benches use their own). */
    MEILI_INDEX_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only').default('simgate_'),

    // ── Provider health and circuit breaker (src/providers/health.ts) ──
    /** `<REDIS_PREFIX>:health:` when unset. */
    HEALTH_KEY_PREFIX: z.string().min(1).optional(),
    /** Call outcomes are judged over this many one-minute buckets. */
    HEALTH_WINDOW_MINUTES: z.coerce.number().int().min(1).max(120).default(10),
    /** The breaker opens when the window's error rate exceeds this (0..1) over at least HEALTH_MIN_CALLS calls … */
    HEALTH_ERROR_RATE_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.5),
    HEALTH_MIN_CALLS: z.coerce.number().int().min(1).default(20),
    /** … or after this many transient failures in a row. */
    HEALTH_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).default(5),
    /** How long an open breaker stays open before one probe is let through. */
    HEALTH_COOLDOWN_MS: z.coerce.number().int().min(100).default(30_000),
    /** Assumed success rate (SMS received ÷ numbers bought) of a route with no history, and its weight in purchases. */
    HEALTH_SUCCESS_PRIOR: z.coerce.number().gt(0).max(1).default(0.8),
    HEALTH_PRIOR_WEIGHT: z.coerce.number().int().min(0).default(5),

    // ── Top-ups (src/payments; README "Payments"). A processor is on when its keys are set. ──
    /** The development sandbox processor (pay with a button); on by default outside production, refused in production. */
    PAYMENTS_SANDBOX: bool.optional(),
    STRIPE_SECRET_KEY: optionalText,
    STRIPE_WEBHOOK_SECRET: optionalText,
    /** Where the Stripe SDK sends its calls (the payment simulator in development and tests); Stripe's own API when unset. */
    STRIPE_API_BASE: z.preprocess((value) => (value === '' ? undefined : value), z.url().optional()),
    /** Stripe Checkout's currency and its USD value (USD per unit), fixed per payment when it is created. */
    STRIPE_CURRENCY: z.string().regex(/^[a-z]{3}$/, 'an ISO 4217 code in lower case').default('usd'),
    STRIPE_USD_RATE: z.string().regex(/^\d+(\.\d{1,9})?$/, 'a decimal number').default('1'),
    NOWPAYMENTS_API_KEY: optionalText,
    NOWPAYMENTS_IPN_SECRET: optionalText,
    NOWPAYMENTS_API_BASE: z.url().default('https://api.nowpayments.io/v1'),
    /** What customers may pay in, NOWPayments' currency codes, comma-separated. */
    NOWPAYMENTS_PAY_CURRENCIES: z.string().regex(/^[a-z0-9]+(,[a-z0-9]+)*$/, 'lower-case currency codes, comma-separated').default('usdttrc20,usdtbsc,usdterc20,btc'),
    /** Limits per customer, micros: one top-up's minimum and maximum, and the sum of one rolling day's top-ups. */
    TOPUP_MIN_MICROS: z.coerce.bigint().min(1n).default(1_000_000n),
    TOPUP_MAX_MICROS: z.coerce.bigint().min(1n).max(10n ** 12n).default(1_000_000_000n),
    TOPUP_DAILY_MAX_MICROS: z.coerce.bigint().min(1n).max(10n ** 13n).default(2_000_000_000n),
    /** How long a customer has to pay; Stripe Checkout needs at least 30 minutes. */
    TOPUP_EXPIRY_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    /** The top-up workflow asks the processor itself, so a lost callback delays a credit but never loses it. */
    TOPUP_POLL_INITIAL_MS: z.coerce.number().int().min(100).default(10_000),
    TOPUP_POLL_MAX_MS: z.coerce.number().int().min(100).default(300_000),
    /** A payment seen arriving (on chain, unconfirmed; partly paid) is waited for this long past its expiry. */
    TOPUP_SETTLE_GRACE_SECONDS: z.coerce.number().int().min(0).max(7 * 86_400).default(6 * 3600),
    /** The API's origin as processors reach it for callbacks (`/webhooks/payments/<processor>`); PUBLIC_URL when unset. */
    PAYMENTS_CALLBACK_URL: z.preprocess((value) => (value === '' ? undefined : value), z.url().optional()),

    ADMIN_EMAIL: z.email().default('admin@simgate.local'),
    ADMIN_PASSWORD: z.string().min(8).default('admin-password'),
    /**
     * Production alternative to ADMIN_PASSWORD: a one-time token that POST /api/auth/setup takes
     * (with the admin's own password) to create the first admin while none exists.
     */
    ADMIN_SETUP_TOKEN: optionalText,
    /** Lifetime of a one-use SSE stream ticket: long enough to open EventSource after asking, short enough to be worthless in a log. */
    STREAM_TICKET_TTL_SECONDS: z.coerce.number().int().min(1).max(300).default(30),
    /** Bearer token GET /metrics requires; unset = /metrics answers 404 in production (open in development). */
    METRICS_TOKEN: optionalText,
    /** Express `trust proxy`: unset = trust no proxy (req.ip is the socket's address); e.g. `loopback`, `10.0.0.0/8`, `1` (hops). */
    TRUST_PROXY: optionalText,
  })
  .superRefine((env, ctx) => {
    if (env.WORKER_WORKFLOW_TASK_POLLS !== undefined && env.WORKER_WORKFLOW_TASK_POLLS > (env.WORKER_WORKFLOW_TASK_SLOTS ?? 40)) {
      ctx.addIssue({ code: 'custom', path: ['WORKER_WORKFLOW_TASK_POLLS'], message: 'cannot exceed WORKER_WORKFLOW_TASK_SLOTS (40 when unset)' });
    }
    if (env.AUTH_COOKIE_SECURE === false && env.PUBLIC_URL && !/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(env.PUBLIC_URL)) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_COOKIE_SECURE'], message: 'can be false only when PUBLIC_URL is http://localhost' });
    }
    if (env.NODE_ENV !== 'production') return;
    const secrets = { JWT_SECRET: env.JWT_SECRET, PROVIDER_WEBHOOK_SECRET: env.PROVIDER_WEBHOOK_SECRET, CSRF_SECRET: env.CSRF_SECRET, METRICS_TOKEN: env.METRICS_TOKEN };
    for (const [name, value] of Object.entries(secrets)) {
      if (value === undefined) continue;
      const weakness = value === DEVELOPMENT_DEFAULTS[name] ? 'must be set in production' : typeof value === 'string' ? secretWeakness(value) : null;
      if (weakness) ctx.addIssue({ code: 'custom', path: [name], message: weakness });
    }
    if (!env.SECRETS_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['SECRETS_KEYS'], message: 'must be set in production' });
    } else {
      for (const [version, key] of keyringEntries(env.SECRETS_KEYS)) {
        const weakness = key.length === 32 ? keyWeakness(key) : 'must be 32 bytes (base64)';
        if (weakness) ctx.addIssue({ code: 'custom', path: ['SECRETS_KEYS'], message: `key ${version} ${weakness}` });
      }
    }
    if (!env.ADMIN_SETUP_TOKEN) {
      const weakness = typeof env.ADMIN_PASSWORD === 'string' ? adminPasswordWeakness(env.ADMIN_PASSWORD) : null;
      if (weakness) ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: `${weakness}; set a strong ADMIN_PASSWORD (or ADMIN_SETUP_TOKEN) in production` });
    } else {
      const weakness = secretWeakness(env.ADMIN_SETUP_TOKEN);
      if (weakness) ctx.addIssue({ code: 'custom', path: ['ADMIN_SETUP_TOKEN'], message: weakness });
    }
    if (env.AUTH_COOKIE_SECURE === false) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_COOKIE_SECURE'], message: 'cannot be false in production (plain-http localhost development only)' });
    }
    if (env.TRUST_PROXY?.trim() === 'true') {
      ctx.addIssue({ code: 'custom', path: ['TRUST_PROXY'], message: 'true believes any client\'s X-Forwarded-For; name the proxies (addresses, subnets) or a hop count' });
    }
    if (!env.RATE_LIMIT_ENABLED) {
      ctx.addIssue({ code: 'custom', path: ['RATE_LIMIT_ENABLED'], message: 'cannot be false in production' });
    }
    if (env.PAYMENTS_SANDBOX === true) {
      ctx.addIssue({ code: 'custom', path: ['PAYMENTS_SANDBOX'], message: 'cannot be true in production (anyone could credit their wallet)' });
    }
    if (env.STRIPE_SECRET_KEY !== undefined) {
      if (/^(sk|rk)_test_/.test(env.STRIPE_SECRET_KEY)) ctx.addIssue({ code: 'custom', path: ['STRIPE_SECRET_KEY'], message: 'is a test-mode key' });
      if (!env.STRIPE_WEBHOOK_SECRET) ctx.addIssue({ code: 'custom', path: ['STRIPE_WEBHOOK_SECRET'], message: 'required with STRIPE_SECRET_KEY (the whsec_… of the webhook endpoint)' });
    }
    if (env.NOWPAYMENTS_API_KEY !== undefined && !env.NOWPAYMENTS_IPN_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['NOWPAYMENTS_IPN_SECRET'], message: 'required with NOWPAYMENTS_API_KEY (IPN callbacks are verified with it)' });
    }
    for (const name of ['STRIPE_API_BASE', 'NOWPAYMENTS_API_BASE'] as const) {
      const url = env[name];
      if (typeof url === 'string' && !url.startsWith('https://')) ctx.addIssue({ code: 'custom', path: [name], message: 'must be https in production' });
    }
    if (env.SEARCH_ENGINE === 'meilisearch' && !env.MEILI_URL) {
      ctx.addIssue({ code: 'custom', path: ['MEILI_URL'], message: 'required when SEARCH_ENGINE=meilisearch' });
    }
    // Run even when a variable above failed, so these problems are listed with the others, not
    // only after the first ones are fixed. Env values are strings, so a field that failed still
    // holds its (string) input and every check above stays safe.
  }, { when: () => true });

/** `<version>:<base64>` entries of SECRETS_KEYS (the format itself is checked by src/lib/secrets.ts). */
function keyringEntries(spec: string): [string, Buffer][] {
  return spec
    .split(',')
    .map((part) => /^(\d+):(.+)$/.exec(part.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1], Buffer.from(match[2], 'base64')]);
}

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

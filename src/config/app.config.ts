import { createHmac } from 'node:crypto';
import { loadProviders, type ProviderConfig } from './providers.config';
import { ConfigError, parseEnv, type Env } from './env.schema';

/** `points` requests per `windowSeconds` per key (IP, user …). */
export interface RateLimitRule {
  points: number;
  windowSeconds: number;
}

/** Accounts, tokens and request protection (src/auth, src/http/middleware); see docs/auth.md. */
export interface SecurityConfig {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  cookieSecure: boolean;
  csrfSecret: string;
  corsOrigins: readonly string[];
  emailVerificationTtlSeconds: number;
  passwordResetTtlSeconds: number;
  signatureToleranceSeconds: number;
  /** Where links in e-mails point (the web app). */
  publicUrl: string;
  /** Express `trust proxy` (TRUST_PROXY): false trusts no X-Forwarded-For at all. */
  trustProxy: false | number | string;
  /** GET /metrics needs `Authorization: Bearer <token>`; null = open in development, 404 in production. */
  metricsToken: string | null;
  production: boolean;
  /** ADMIN_SETUP_TOKEN: lets POST /api/auth/setup create the first admin while none exists. */
  adminSetupToken: string | null;
  /** How long a one-use SSE stream ticket (POST /api/events/ticket) waits for its connection. */
  streamTicketTtlSeconds: number;
  rateLimits: {
    enabled: boolean;
    prefix: string;
    /** Every /api request, per client IP. */
    ip: RateLimitRule;
    /** Every authenticated request, per user (web session or API key alike). */
    user: RateLimitRule;
    /** Every partner request (/api/v1, /stubs/handler_api.php), per API key: one runaway script cannot use up its owner's other keys' share. */
    apiKey: RateLimitRule;
    /** Login, registration, password reset and e-mail verification, per IP. */
    login: RateLimitRule;
    /** Purchases (POST /api/numbers, POST /api/v1/numbers), per user. */
    purchase: RateLimitRule;
    /** Provider webhooks, per IP. */
    webhook: RateLimitRule;
  };
  loginLockout: {
    maxFailures: number;
    maxFailuresPerEmail: number;
    windowSeconds: number;
    lockoutSeconds: number;
    maxLockoutSeconds: number;
  };
}

/** Catalog search engine (src/catalog/search). */
export interface SearchConfig {
  engine: Env['SEARCH_ENGINE'];
  meili?: { url: string; apiKey?: string; indexPrefix?: string };
}

/** Provider health windows and circuit breaker (src/providers/health.ts). */
export interface HealthSettings {
  /** Prefix of every key (tests use a unique one per run). */
  keyPrefix: string;
  callWindowMinutes: number;
  routeWindowHours: number;
  /** The breaker ignores the error rate below this many calls in the window. */
  minCalls: number;
  /** 0..1: the breaker opens when the window's error rate exceeds it. */
  errorRateThreshold: number;
  /** Health failures in a row that open the breaker whatever the rate. */
  consecutiveFailures: number;
  cooldownMs: number;
  /** Safety TTL of the half-open probe slot (Redis clock): at least the provider's request timeout. */
  probeTimeoutMs: number;
  /** 0..1: assumed success rate of a route nobody has bought on. */
  successPrior: number;
  /** How many purchases the prior weighs. */
  priorWeight: number;
}

/** Top-ups (src/payments): which processors are on, their settings, and the per-customer limits. */
export interface PaymentsConfig {
  sandbox: boolean;
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | null; currency: string; usdRate: string } | null;
  nowpayments: { apiKey: string; ipnSecret: string; apiBase: string; payCurrencies: readonly string[] } | null;
  limits: { minMicros: bigint; maxMicros: bigint; dailyMaxMicros: bigint };
  expirySeconds: number;
  polling: { initialMs: number; maxMs: number };
  /** How long past a payment's expiry a payment seen arriving (confirming, partly paid) is still waited for. */
  settleGraceMs: number;
  /** The API's origin as processors reach it for callbacks (PAYMENTS_CALLBACK_URL); PUBLIC_URL when unset. */
  callbackBaseUrl: string | null;
}

function paymentsConfig(env: Env): PaymentsConfig {
  return {
    sandbox: env.PAYMENTS_SANDBOX ?? env.NODE_ENV !== 'production',
    stripe: env.STRIPE_SECRET_KEY
      ? { secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? '', apiBase: env.STRIPE_API_BASE ?? null, currency: env.STRIPE_CURRENCY, usdRate: env.STRIPE_USD_RATE }
      : null,
    nowpayments: env.NOWPAYMENTS_API_KEY
      ? { apiKey: env.NOWPAYMENTS_API_KEY, ipnSecret: env.NOWPAYMENTS_IPN_SECRET ?? '', apiBase: env.NOWPAYMENTS_API_BASE.replace(/\/$/, ''), payCurrencies: env.NOWPAYMENTS_PAY_CURRENCIES.split(',') }
      : null,
    limits: { minMicros: env.TOPUP_MIN_MICROS, maxMicros: env.TOPUP_MAX_MICROS, dailyMaxMicros: env.TOPUP_DAILY_MAX_MICROS },
    expirySeconds: env.TOPUP_EXPIRY_SECONDS,
    polling: { initialMs: env.TOPUP_POLL_INITIAL_MS, maxMs: Math.max(env.TOPUP_POLL_MAX_MS, env.TOPUP_POLL_INITIAL_MS) },
    settleGraceMs: env.TOPUP_SETTLE_GRACE_SECONDS * 1000,
    callbackBaseUrl: env.PAYMENTS_CALLBACK_URL?.replace(/\/$/, '') ?? null,
  };
}

export interface AppConfig {
  env: Readonly<Env>;
  /** REDIS_PREFIX: the start of every Redis key and channel (rate limits and health derive theirs from it unless set). */
  redisPrefix: string;
  providers: readonly ProviderConfig[];
  activation: {
    /** First fallback poll of the provider after purchase; doubles up to pollMaxMs. */
    pollInitialMs: number;
    pollMaxMs: number;
    /** Each provider's inbox poll: one listing of all its waiting numbers. */
    inboxIntervalMs: number;
    /** How often a worker makes sure every enabled provider has its inbox poller. */
    inboxSuperviseMs: number;
  };
  /** Per-provider reconciliation of open sales, run by each provider's inbox workflow. */
  reconcile: {
    everyMs: number;
    orphanGraceMs: number;
  };
  /** Partner webhook delivery (workflows/webhook-delivery.ts); the 24 h windows are fixed in workflows/contracts.ts. */
  webhooks: {
    timeoutMs: number;
    retryInitialMs: number;
    retryMaxMs: number;
  };
  limits: {
    jsonBodyBytes: string;
    catalogPageSize: number;
  };
  /** Catalog search engine (src/catalog/search). */
  search: SearchConfig;
  /** Provider health windows and circuit breaker (src/providers/health.ts); the container adds probeTimeoutMs from the providers' timeouts. */
  health: Partial<HealthSettings>;
  security: SecurityConfig;
  payments: PaymentsConfig;
  /** The activation worker's slots, cache and threads (WORKER_* settings); absent fields keep the SDK's defaults. */
  worker: WorkerTuning;
}

export interface WorkerTuning {
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxConcurrentWorkflowTaskPolls?: number;
  maxConcurrentLocalActivityExecutions?: number;
  maxConcurrentActivityTaskExecutions?: number;
  reuseV8Context: boolean;
  workflowThreadPoolSize?: number;
}

function workerTuning(env: Env): WorkerTuning {
  const set = Object.entries({
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: env.WORKER_WORKFLOW_TASK_SLOTS,
    maxConcurrentWorkflowTaskPolls: env.WORKER_WORKFLOW_TASK_POLLS,
    maxConcurrentLocalActivityExecutions: env.WORKER_LOCAL_ACTIVITY_SLOTS,
    maxConcurrentActivityTaskExecutions: env.WORKER_ACTIVITY_SLOTS,
    workflowThreadPoolSize: env.WORKER_WORKFLOW_THREADS,
  }).filter(([, value]) => value !== undefined);
  return { reuseV8Context: env.WORKER_REUSE_V8_CONTEXT, ...Object.fromEntries(set) };
}

function securityConfig(env: Env): SecurityConfig {
  return {
    accessTokenTtlSeconds: env.JWT_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    cookieSecure: env.AUTH_COOKIE_SECURE ?? true,
    csrfSecret: env.CSRF_SECRET ?? createHmac('sha256', env.JWT_SECRET).update('simgate-csrf').digest('hex'),
    corsOrigins: env.CORS_ORIGINS.split(',').map((o) => o.trim().replace(/\/$/, '')).filter(Boolean),
    emailVerificationTtlSeconds: env.EMAIL_VERIFICATION_TTL_SECONDS,
    passwordResetTtlSeconds: env.PASSWORD_RESET_TTL_SECONDS,
    signatureToleranceSeconds: env.SIGNATURE_TOLERANCE_SECONDS,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    metricsToken: env.METRICS_TOKEN ?? null,
    production: env.NODE_ENV === 'production',
    adminSetupToken: env.ADMIN_SETUP_TOKEN ?? null,
    streamTicketTtlSeconds: env.STREAM_TICKET_TTL_SECONDS,
    rateLimits: {
      enabled: env.RATE_LIMIT_ENABLED,
      prefix: env.RATE_LIMIT_PREFIX ?? `${env.REDIS_PREFIX}:rl`,
      ip: { points: env.RATE_LIMIT_IP_POINTS, windowSeconds: env.RATE_LIMIT_IP_WINDOW_SECONDS },
      user: { points: env.RATE_LIMIT_USER_POINTS, windowSeconds: env.RATE_LIMIT_USER_WINDOW_SECONDS },
      apiKey: { points: env.RATE_LIMIT_API_KEY_POINTS, windowSeconds: env.RATE_LIMIT_API_KEY_WINDOW_SECONDS },
      login: { points: env.RATE_LIMIT_LOGIN_POINTS, windowSeconds: env.RATE_LIMIT_LOGIN_WINDOW_SECONDS },
      purchase: { points: env.RATE_LIMIT_PURCHASE_POINTS, windowSeconds: env.RATE_LIMIT_PURCHASE_WINDOW_SECONDS },
      webhook: { points: env.RATE_LIMIT_WEBHOOK_POINTS, windowSeconds: env.RATE_LIMIT_WEBHOOK_WINDOW_SECONDS },
    },
    loginLockout: {
      maxFailures: env.LOGIN_MAX_FAILURES,
      maxFailuresPerEmail: env.LOGIN_MAX_FAILURES_PER_EMAIL,
      windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS,
      maxLockoutSeconds: Math.max(env.LOGIN_LOCKOUT_MAX_SECONDS, env.LOGIN_LOCKOUT_SECONDS),
    },
  };
}

/** `1`, `2` … are hop counts; anything else is Express's list of addresses, subnets or names (`loopback, 10.0.0.0/8`). */
function trustProxySetting(value: string | undefined): false | number | string {
  const trimmed = value?.trim();
  if (!trimmed || trimmed === 'false' || trimmed === 'none') return false;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<AppConfig> {
  // The environment and PROVIDERS_JSON are both checked before failing: one ConfigError lists every problem.
  const problems: string[] = [];
  const env = collectProblems(problems, () => parseEnv(source));
  const providers = collectProblems(problems, () => loadProviders({ PROVIDERS_JSON: source.PROVIDERS_JSON, SIMULATOR_PORT: env?.SIMULATOR_PORT ?? 0 }));
  // Without PROVIDERS_JSON the bundled simulator's tenants are the providers: fake numbers for sale.
  if ((env?.NODE_ENV ?? source.NODE_ENV) === 'production' && !source.PROVIDERS_JSON) {
    problems.push('PROVIDERS_JSON: must be set in production (without it the simulator\'s providers would be sold)');
  }
  if (problems.length > 0 || !env || !providers) throw new ConfigError(problems);
  return Object.freeze({
    env,
    redisPrefix: env.REDIS_PREFIX,
    providers: Object.freeze(providers),
    activation: { pollInitialMs: env.POLL_INITIAL_MS, pollMaxMs: Math.max(env.POLL_MAX_MS, env.POLL_INITIAL_MS), inboxIntervalMs: env.INBOX_INTERVAL_MS, inboxSuperviseMs: env.INBOX_SUPERVISE_MS },
    reconcile: { everyMs: env.RECONCILE_EVERY_MS, orphanGraceMs: env.ORPHAN_GRACE_MS },
    webhooks: { timeoutMs: env.WEBHOOK_TIMEOUT_MS, retryInitialMs: env.WEBHOOK_RETRY_INITIAL_MS, retryMaxMs: Math.max(env.WEBHOOK_RETRY_MAX_MS, env.WEBHOOK_RETRY_INITIAL_MS) },
    limits: { jsonBodyBytes: '64kb', catalogPageSize: 50 },
    search: Object.freeze({
      engine: env.SEARCH_ENGINE,
      meili: env.MEILI_URL ? { url: env.MEILI_URL, apiKey: env.MEILI_API_KEY, indexPrefix: env.MEILI_INDEX_PREFIX } : undefined,
    }),
    health: Object.freeze({
      keyPrefix: env.HEALTH_KEY_PREFIX ?? `${env.REDIS_PREFIX}:health:`,
      callWindowMinutes: env.HEALTH_WINDOW_MINUTES,
      errorRateThreshold: env.HEALTH_ERROR_RATE_THRESHOLD,
      minCalls: env.HEALTH_MIN_CALLS,
      consecutiveFailures: env.HEALTH_CONSECUTIVE_FAILURES,
      cooldownMs: env.HEALTH_COOLDOWN_MS,
      successPrior: env.HEALTH_SUCCESS_PRIOR,
      priorWeight: env.HEALTH_PRIOR_WEIGHT,
    }),
    security: Object.freeze(securityConfig(env)),
    payments: Object.freeze(paymentsConfig(env)),
    worker: Object.freeze(workerTuning(env)),
  });
}

function collectProblems<T>(problems: string[], parse: () => T): T | null {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return null;
  }
}

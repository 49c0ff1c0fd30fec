import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/app.config';
import { ConfigError, parseEnv } from '../../src/config/env.schema';

/** Payment processors from the environment: on when their keys are set, the sandbox never in production. */

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: randomBytes(32).toString('base64'),
  PROVIDER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
  SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}`,
  ADMIN_PASSWORD: 'Tr0ub4dor&3-horse-battery',
  PROVIDERS_JSON: JSON.stringify([{ id: 'hero', displayName: 'HeroSMS', protocol: 'SMS_ACTIVATE', baseUrl: 'https://hero-sms.com/stubs/handler_api.php', apiKey: 'super-secret-provider-key' }]),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('payments configuration', () => {
  it('has the sandbox on and no real processor by default outside production', () => {
    const { payments } = loadConfig({});
    expect(payments.sandbox).toBe(true);
    expect(payments.stripe).toBeNull();
    expect(payments.nowpayments).toBeNull();
    expect(payments.limits).toEqual({ minMicros: 1_000_000n, maxMicros: 1_000_000_000n, dailyMaxMicros: 2_000_000_000n });
  });

  it('has the sandbox off by default in production, and refuses it turned on there', () => {
    expect(loadConfig(production).payments.sandbox).toBe(false);
    expect(problemsOf({ ...production, PAYMENTS_SANDBOX: 'true' })).toEqual(['PAYMENTS_SANDBOX: cannot be true in production (anyone could credit their wallet)']);
  });

  it('refuses in production a Stripe test key, a key without its webhook secret, NOWPayments without its IPN secret and plain-http API bases', () => {
    const problems = problemsOf({ ...production, STRIPE_SECRET_KEY: 'sk_test_abc', NOWPAYMENTS_API_KEY: 'np-key', STRIPE_API_BASE: 'http://127.0.0.1:4020', NOWPAYMENTS_API_BASE: 'http://127.0.0.1:4020/v1' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['NOWPAYMENTS_API_BASE', 'NOWPAYMENTS_IPN_SECRET', 'STRIPE_API_BASE', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);
  });

  it('turns on each processor its keys name', () => {
    const { payments } = loadConfig({ ...production, STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc', NOWPAYMENTS_API_KEY: 'np-key', NOWPAYMENTS_IPN_SECRET: 'np-ipn', NOWPAYMENTS_PAY_CURRENCIES: 'usdttrc20,btc' });
    expect(payments.stripe).toEqual({ secretKey: 'sk_live_abc', webhookSecret: 'whsec_abc', apiBase: null, currency: 'usd', usdRate: '1' });
    expect(payments.nowpayments).toEqual({ apiKey: 'np-key', ipnSecret: 'np-ipn', apiBase: 'https://api.nowpayments.io/v1', payCurrencies: ['usdttrc20', 'btc'] });
  });

  it('refuses limits that are not whole micros', () => {
    expect(problemsOf({ TOPUP_MIN_MICROS: '1.5', TOPUP_MAX_MICROS: '-3' }).map((p) => p.split(':')[0]).sort()).toEqual(['TOPUP_MAX_MICROS', 'TOPUP_MIN_MICROS']);
  });
});

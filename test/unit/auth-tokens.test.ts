import { randomBytes } from 'node:crypto';
import { hasScope, parseApiKey } from '../../src/auth/api-keys.service';
import { refreshTokenFamily } from '../../src/auth/refresh-tokens';
import { randomToken, safeEqual, sha256Hex } from '../../src/auth/tokens';
import { loadConfig } from '../../src/config/app.config';
import { ConfigError } from '../../src/config/env.schema';

describe('token hashing', () => {
  it('hashes with SHA-256, hex (FIPS 180-2 vector)', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });

  it('makes 256-bit base64url tokens that do not repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(tokens.size).toBe(1000);
    for (const token of [...tokens].slice(0, 20)) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('compares in constant time, false on any difference or length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});

describe('refresh token and API key formats', () => {
  const family = '3f2b8c1e-9d4a-4b6f-8e21-0c5d7a9b1e34';

  it('reads the family of a well-formed refresh token only', () => {
    expect(refreshTokenFamily(`${family}.${randomToken()}`)).toBe(family);
    expect(refreshTokenFamily(`${family}.short`)).toBeNull();
    expect(refreshTokenFamily(randomToken())).toBeNull();
    expect(refreshTokenFamily(`${family}.${randomToken()}.extra`)).toBeNull();
    expect(refreshTokenFamily(undefined)).toBeNull();
  });

  it('parses sg_<prefix>_<secret> keys', () => {
    const secret = randomToken();
    expect(parseApiKey(`sg_0123456789ab_${secret}`)).toEqual({ prefix: '0123456789ab' });
    // The secret may itself contain '_' (base64url): the prefix has a fixed length.
    expect(parseApiKey(`sg_0123456789ab_${'_'.repeat(43)}`)).toEqual({ prefix: '0123456789ab' });
    expect(parseApiKey(`sg_0123456789AB_${secret}`)).toBeNull();
    expect(parseApiKey(`sk_0123456789ab_${secret}`)).toBeNull();
    expect(parseApiKey(`sg_0123456789ab_${secret}x`)).toBeNull();
    expect(parseApiKey('')).toBeNull();
  });

  it("treats 'purchase' as including 'read', never the other way", () => {
    expect(hasScope(['read'], 'read')).toBe(true);
    expect(hasScope(['read'], 'purchase')).toBe(false);
    expect(hasScope(['purchase'], 'read')).toBe(true);
    expect(hasScope(['purchase'], 'purchase')).toBe(true);
    expect(hasScope([], 'read')).toBe(false);
    expect(hasScope(['admin'], 'read')).toBe(false);
  });
});

describe('security configuration', () => {
  // Production refuses predictable secrets, a default admin password and the simulator's providers.
  const production = {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('base64'),
    PROVIDER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}`,
    ADMIN_PASSWORD: 'Tr0ub4dor&3-horse-battery',
    PROVIDERS_JSON: JSON.stringify([{ id: 'hero', displayName: 'HeroSMS', protocol: 'SMS_ACTIVATE', baseUrl: 'https://hero-sms.com/stubs/handler_api.php', apiKey: 'k' }]),
  };

  it('defaults to 15-minute access tokens, Secure cookies, no cross-origin callers', () => {
    const { security } = loadConfig({});
    expect(security.accessTokenTtlSeconds).toBe(900);
    expect(security.cookieSecure).toBe(true);
    expect(security.corsOrigins).toEqual([]);
    expect(security.rateLimits.enabled).toBe(true);
    expect(security.csrfSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses insecure cookies or disabled rate limits in production', () => {
    expect(() => loadConfig({ ...production, AUTH_COOKIE_SECURE: 'false' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...production, RATE_LIMIT_ENABLED: 'false' })).toThrow(ConfigError);
    expect(loadConfig(production).security.cookieSecure).toBe(true);
  });

  it('allows insecure cookies only for a plain-http localhost setup', () => {
    expect(loadConfig({ AUTH_COOKIE_SECURE: 'false' }).security.cookieSecure).toBe(false);
    expect(loadConfig({ AUTH_COOKIE_SECURE: 'false', PUBLIC_URL: 'http://localhost:5173' }).security.cookieSecure).toBe(false);
    expect(() => loadConfig({ AUTH_COOKIE_SECURE: 'false', PUBLIC_URL: 'https://simgate.example' })).toThrow(ConfigError);
  });

  it('parses the CORS allow-list', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example/' }).security.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});

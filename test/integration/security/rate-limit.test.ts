import { randomUUID } from 'node:crypto';
import { startApi, type RunningApi } from '../../../src/runtime';
import { startSystem, type TestSystem } from '../../support/system';
import { waitFor } from '../../support/wait';

/**
 * Redis-backed rate limits with tiny windows: per IP, per user, per route (login, purchase); 429
 * RATE_LIMITED with Retry-After and RateLimit-* headers, and recovery once the window passes.
 * Each test speaks from its own address (TRUST_PROXY=loopback: X-Forwarded-For from loopback is believed, as behind a proxy).
 */
describe('rate limits', () => {
  let system: TestSystem;
  let second: RunningApi;

  beforeAll(async () => {
    system = await startSystem({
      env: {
        TRUST_PROXY: 'loopback',
        RATE_LIMIT_IP_POINTS: '8',
        RATE_LIMIT_IP_WINDOW_SECONDS: '3',
        RATE_LIMIT_USER_POINTS: '6',
        RATE_LIMIT_USER_WINDOW_SECONDS: '3',
        RATE_LIMIT_LOGIN_POINTS: '3',
        RATE_LIMIT_LOGIN_WINDOW_SECONDS: '3',
        RATE_LIMIT_PURCHASE_POINTS: '2',
        RATE_LIMIT_PURCHASE_WINDOW_SECONDS: '3',
      },
    });
    // A second API process on the same Redis: limits are shared, not per process.
    second = await startApi(system.container, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await second?.close();
    await system?.stop();
  });

  let ipCounter = 0;
  const newIp = () => `203.0.113.${++ipCounter}`;
  const from = (ip: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...headers });

  async function customer(ip: string) {
    const response = await system.request('POST', '/api/auth/register', { headers: from(ip), body: { email: `rl-${randomUUID()}@simgate.test`, password: 'customer-password' } });
    expect(response.status).toBe(201);
    return response.body.token as string;
  }

  it('limits each IP across all of /api and across API processes, then recovers after the window', async () => {
    const ip = newIp();
    const seen: { status: number; remaining: string | null }[] = [];
    for (let i = 0; i < 8; i++) {
      const base = i % 2 === 0 ? system.api.url : second.url;
      const response = await fetch(`${base}/api/catalog/services`, { headers: from(ip) });
      seen.push({ status: response.status, remaining: response.headers.get('ratelimit-remaining') });
      expect(response.headers.get('ratelimit-limit')).toBe('8');
      expect(Number(response.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(0);
      expect(Number(response.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(3);
    }
    expect(seen.map((s) => s.status)).toEqual(Array(8).fill(200));
    expect(seen.map((s) => s.remaining)).toEqual(['7', '6', '5', '4', '3', '2', '1', '0']);

    const refused = await system.request('GET', '/api/catalog/services', { headers: from(ip) });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');

    // Other clients are not affected.
    expect((await system.request('GET', '/api/catalog/services', { headers: from(newIp()) })).status).toBe(200);

    const started = Date.now();
    await waitFor(async () => (await system.request('GET', '/api/catalog/services', { headers: from(ip) })).status === 200, { timeoutMs: 8000, intervalMs: 200 });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('limits each user, whatever address they come from', async () => {
    const token = await customer(newIp());
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await system.request('GET', '/api/wallet', { token, headers: from(newIp()) })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    const other = await customer(newIp());
    expect((await system.request('GET', '/api/wallet', { token: other, headers: from(newIp()) })).status).toBe(200);
    await waitFor(async () => (await system.request('GET', '/api/wallet', { token, headers: from(newIp()) })).status === 200, { timeoutMs: 8000, intervalMs: 200 });
  });

  it('limits sign-in attempts per IP more tightly', async () => {
    const ip = newIp();
    const email = `nobody-${randomUUID()}@simgate.test`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await system.request('POST', '/api/auth/login', { headers: from(ip), body: { email, password: 'wrong-password' } })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await system.request('POST', '/api/auth/login', { headers: from(ip), body: { email, password: 'wrong-password' } });
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).not.toBeNull();
    // Reading the catalog from that address still works: only the login route is tighter.
    expect((await system.request('GET', '/api/catalog/services', { headers: from(ip) })).status).toBe(200);
  });

  it('limits purchases per user more tightly than other calls', async () => {
    const token = await customer(newIp());
    const buy = () => system.request('POST', '/api/numbers', { token, headers: from(newIp()), body: { service: 'tg' } });
    expect((await buy()).status).toBe(400);
    expect((await buy()).status).toBe(400);
    const refused = await buy();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    // The tighter purchase limit shows in the headers; listing is not a purchase.
    expect(refused.headers.get('ratelimit-limit')).toBe('2');
    expect((await system.request('GET', '/api/numbers', { token, headers: from(newIp()) })).status).toBe(200);
  });

  describe('without TRUST_PROXY (the default)', () => {
    let direct: TestSystem;
    beforeAll(async () => {
      direct = await startSystem({ env: { RATE_LIMIT_IP_POINTS: '3', RATE_LIMIT_IP_WINDOW_SECONDS: '30' } });
    });
    afterAll(async () => {
      await direct?.stop();
    });

    it('ignores X-Forwarded-For: a client cannot dodge the per-IP limit by inventing addresses', async () => {
      // Start-up's own sign-in came from this address too, so count until refused rather than from 3.
      const statuses: number[] = [];
      while (statuses.length < 6 && statuses.at(-1) !== 429) statuses.push((await direct.request('GET', '/api/catalog/services', { headers: from(newIp()) })).status);
      expect(statuses.at(-1)).toBe(429);
      expect(statuses.length).toBeLessThanOrEqual(4);
    });
  });
});

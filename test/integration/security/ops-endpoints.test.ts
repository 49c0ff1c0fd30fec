import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startSystem, type TestSystem } from '../../support/system';

/** /healthz (the process answers), /readyz (its dependencies answer) and /metrics (only for the scraper). */
describe('operations endpoints', () => {
  describe('with METRICS_TOKEN set', () => {
    let system: TestSystem;
    const metricsToken = randomBytes(32).toString('base64url');
    beforeAll(async () => {
      system = await startSystem({ env: { METRICS_TOKEN: metricsToken } });
    });
    afterAll(async () => {
      await system?.stop();
    });

    it('/healthz answers while the process is up', async () => {
      const response = await system.request('GET', '/healthz');
      expect(response).toMatchObject({ status: 200, body: { ok: true } });
    });

    it('/readyz reports PostgreSQL, Redis, Temporal and a polling worker', async () => {
      const response = await system.request('GET', '/readyz');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true, checks: { postgres: 'ok', redis: 'ok', temporal: 'ok', worker: 'ok' } });
    });

    it('/metrics refuses a request without the token, or with another one, and serves the scraper', async () => {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: metricsToken }] as Record<string, string>[]) {
        const response = await system.request('GET', '/metrics', { headers });
        expect(response.status).toBe(401);
        expect(String(response.body)).not.toContain('process_cpu');
      }
      const scrape = await system.request('GET', '/metrics', { token: metricsToken });
      expect(scrape.status).toBe(200);
      expect(String(scrape.body)).toContain('simgate_http_request_duration_seconds');
    });

    it('/metrics carries the business gauges: activations, stuck ones, ledger, wallet totals, invariants, incidents, breakers', async () => {
      await system.customer(12_345_678n);
      const text = String((await system.request('GET', '/metrics', { token: metricsToken })).body);
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      expect(value('simgate_wallet_micros{kind="available"}')).toBeGreaterThanOrEqual(12_345_678);
      expect(value('simgate_ledger_entries{kind="CREDIT"}')).toBeGreaterThanOrEqual(1);
      expect(value('simgate_activations_stuck')).toEqual(expect.any(Number));
      expect(value('simgate_ledger_invariant_violations')).toEqual(expect.any(Number));
      expect(value('simgate_provider_breaker_open{provider="hero-sim"}')).toBe(0);
      for (const name of ['simgate_activations', 'simgate_open_incidents']) expect(text).toContain(`# TYPE ${name} gauge`);
    });

    it('serves every simgate_* series the example alert rules (ops/alerts.yml) watch', async () => {
      const rules = readFileSync(path.resolve(__dirname, '../../../ops/alerts.yml'), 'utf8');
      const watched = [...new Set(rules.match(/simgate_[a-z_]+/g) ?? [])];
      expect(watched.length).toBeGreaterThanOrEqual(5);
      const text = String((await system.request('GET', '/metrics', { token: metricsToken })).body);
      // Declared metrics (a gauge by kind has no series while it counts nothing; a histogram's _count belongs to it).
      expect(watched.filter((series) => !text.includes(`# TYPE ${series.replace(/_(count|sum|bucket)$/, '')} `))).toEqual([]);
    });
  });

  describe('when a dependency is down', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startSystem();
    });
    afterAll(async () => {
      await system?.stop();
    });

    it('/readyz answers 503 naming the failed check (and nothing of its error), /healthz stays 200', async () => {
      // The API's own Redis connection goes away (rate limits fall back to their in-process stand-in).
      system.container.redis.disconnect();
      const response = await system.request('GET', '/readyz');
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ ok: false, checks: { postgres: 'ok', redis: 'failed', temporal: 'ok', worker: 'ok' } });
      expect((await system.request('GET', '/healthz')).status).toBe(200);
    });
  });

  describe('in production, with only the documented required settings', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startSystem({
        env: {
          NODE_ENV: 'production',
          JWT_SECRET: randomBytes(32).toString('base64'),
          SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}`,
          PROVIDER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
          ADMIN_PASSWORD: `Admin-${randomBytes(12).toString('base64url')}`,
        },
      });
    });
    afterAll(async () => {
      await system?.stop();
    });

    it('starts, is ready, signs the admin in, and keeps /metrics to itself without METRICS_TOKEN', async () => {
      expect(system.config.security.production).toBe(true);
      expect((await system.request('GET', '/readyz')).status).toBe(200);
      expect((await system.request('GET', '/api/admin/users', { token: system.adminToken })).status).toBe(200);
      const metrics = await system.request('GET', '/metrics');
      expect(metrics.status).toBe(404);
      expect(String(JSON.stringify(metrics.body))).not.toContain('process_cpu');
    });
  });
});

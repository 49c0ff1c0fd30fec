import { startSystem, type TestSystem } from '../../support/system';

/**
 * Provider webhooks: the secret first (before the body is looked at), from the X-Webhook-Secret
 * header or `?secret=`, compared in constant time; each provider's own secret where it has one;
 * an unknown provider answered exactly like a wrong secret; a rate limit per IP.
 */
describe('provider webhooks', () => {
  let system: TestSystem;
  // Providers of this file only: their secrets must not change what other files' systems expect.
  const [one, two] = ['hook-one', 'hook-two'];
  const WEBHOOK_POINTS = 40;

  beforeAll(async () => {
    system = await startSystem({
      tenants: () => [
        { id: one, apiKey: 'sim-hook-one-key', errorStyle: 'classic' as const, minCancelMs: 0 },
        { id: two, apiKey: 'sim-hook-two-key', errorStyle: 'classic' as const, minCancelMs: 0 },
      ],
      env: { RATE_LIMIT_WEBHOOK_POINTS: String(WEBHOOK_POINTS), RATE_LIMIT_WEBHOOK_WINDOW_SECONDS: '60' },
    });
  });
  afterAll(async () => {
    for (const id of [one, two]) await system?.container.providerAdmin.setWebhookSecret(id, null, { id: '00000000-0000-0000-0000-000000000000', ip: 'test' }).catch(() => undefined);
    await system?.stop();
  });

  const globalSecret = () => system.config.env.PROVIDER_WEBHOOK_SECRET;
  const sms = { activationId: 987_654_321_012, code: '4242' };
  const hook = (providerId: string, options: { header?: string; query?: string; body?: unknown } = {}) =>
    system.request('POST', `/webhooks/providers/${providerId}${options.query === undefined ? '' : `?secret=${encodeURIComponent(options.query)}`}`, {
      body: options.body ?? sms,
      headers: options.header === undefined ? {} : { 'x-webhook-secret': options.header },
    });

  it('checks the secret before the body: a bad body without the secret is a 401, not a schema error', async () => {
    const anonymous = await hook(one, { body: { activationId: 'not a number', text: 42 } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('WEBHOOK_UNAUTHORIZED');
    expect(JSON.stringify(anonymous.body)).not.toMatch(/activationId|issues/);
    expect((await hook(one, { header: globalSecret(), body: { activationId: 'not a number' } })).status).toBe(400);
  });

  it('takes the secret from the X-Webhook-Secret header, or from ?secret= for providers that can only call a URL', async () => {
    expect((await hook(one, { header: globalSecret() })).body).toEqual({ ok: true, matched: false });
    expect((await hook(one, { query: globalSecret() })).body).toEqual({ ok: true, matched: false });
    expect((await hook(one, { header: `${globalSecret()}x` })).status).toBe(401);
    expect((await hook(one, { header: '' })).status).toBe(401);
  });

  it('answers an unknown provider exactly like a wrong secret', async () => {
    const unknown = await hook('no-such-provider', { header: globalSecret() });
    const wrong = await hook(one, { header: 'wrong-secret' });
    const malformedId = await hook('Not_An_Id', { header: globalSecret() });
    for (const response of [unknown, malformedId]) {
      expect(response.status).toBe(wrong.status);
      expect(response.body).toEqual(wrong.body);
    }
  });

  it("uses each provider's own secret once it has one: the global one and another provider's stop working for it", async () => {
    const set = await system.request('POST', `/api/admin/providers/${one}/webhook-secret`, { token: system.adminToken, body: {} });
    expect(set.status).toBe(200);
    const ownSecret = set.body.webhookSecret as string;
    expect(ownSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await system.container.db.provider.findUniqueOrThrow({ where: { id: one } });
    expect(stored.webhookSecret).not.toContain(ownSecret);

    expect((await hook(one, { header: ownSecret })).status).toBe(200);
    expect((await hook(one, { header: globalSecret() })).status).toBe(401);
    expect((await hook(two, { header: ownSecret })).status).toBe(401);
    expect((await hook(two, { header: globalSecret() })).status).toBe(200);

    const listed = await system.request('GET', '/api/admin/providers', { token: system.adminToken });
    expect(listed.body.providers.find((p: { id: string }) => p.id === one)).toMatchObject({ hasWebhookSecret: true });
    expect(JSON.stringify(listed.body)).not.toContain(ownSecret);

    // Rotation: the new secret works at once, the old one no longer does.
    const rotated = await system.request('POST', `/api/admin/providers/${one}/webhook-secret`, { token: system.adminToken, body: {} });
    expect((await hook(one, { header: rotated.body.webhookSecret })).status).toBe(200);
    expect((await hook(one, { header: ownSecret })).status).toBe(401);

    // Removed: back to the global secret.
    await system.request('POST', `/api/admin/providers/${one}/webhook-secret`, { token: system.adminToken, body: { webhookSecret: null } });
    expect((await hook(one, { header: globalSecret() })).status).toBe(200);
  });

  it('rate-limits webhook calls per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= WEBHOOK_POINTS && statuses.at(-1) !== 429; i++) statuses.push((await hook(two, { header: 'guessing' })).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
  });
});

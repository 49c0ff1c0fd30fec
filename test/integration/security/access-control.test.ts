import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { startSystem, type TestSystem } from '../../support/system';
import { createKey } from './helpers';

/** Ownership (another user's activation, wallet, API key), admin-only routes, and the audit trail. */

interface RouteInfo {
  method: string;
  path: string;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  rawPath?: string | RegExp | (string | RegExp)[];
}

const join = (a: string, b: string) => `${a}/${b}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

function collect(stack: LayerLike[], prefix: string, out: RouteInfo[]): RouteInfo[] {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) out.push({ method: method.toUpperCase(), path: join(prefix, path) });
    } else if (layer.handle?.stack) {
      if (typeof layer.rawPath !== 'string') throw new Error('router mounted on a non-string path: extend the enumeration');
      collect(layer.handle.stack, join(prefix, layer.rawPath), out);
    }
  }
  return out;
}

/** Every route reachable under /api/admin in the running app, however deeply its routers are nested. */
function adminRouteList(app: Express): RouteInfo[] {
  const stack = (app as unknown as { router: { stack: LayerLike[] } }).router.stack;
  const mounts = stack.filter((layer) => typeof layer.rawPath === 'string' && (layer.rawPath === '/api/admin' || layer.rawPath.startsWith('/api/admin/')));
  const out: RouteInfo[] = [];
  for (const layer of mounts) {
    if (layer.route) collect([layer], '', out);
    else if (layer.handle?.stack) collect(layer.handle.stack, layer.rawPath as string, out);
  }
  return out;
}

describe('access control', () => {
  let system: TestSystem;
  let alice: { id: string; email: string; token: string };
  let bob: { id: string; email: string; token: string };
  let aliceActivation: { id: string };

  beforeAll(async () => {
    system = await startSystem();
    alice = await system.customer(5_000_000n);
    bob = await system.customer(5_000_000n);
    const bought = await system.request('POST', '/api/numbers', { token: alice.token, headers: { 'Idempotency-Key': `acl-${randomUUID()}` }, body: { service: 'tg', country: 'ID' } });
    expect(bought.status).toBe(201);
    aliceActivation = bought.body.activation;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it("another user's activation is not found, for reading and for every action", async () => {
    expect((await system.request('GET', `/api/numbers/${aliceActivation.id}`, { token: bob.token })).status).toBe(404);
    for (const action of ['cancel', 'retry', 'finish']) {
      const response = await system.request('POST', `/api/numbers/${aliceActivation.id}/${action}`, { token: bob.token });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    const list = await system.request('GET', '/api/numbers', { token: bob.token });
    expect(list.body.activations).toEqual([]);
    expect((await system.request('GET', `/api/numbers/${aliceActivation.id}`, { token: alice.token })).body.activation.status).toBe('ACTIVE');
  });

  it("a customer cannot read or credit another user's wallet", async () => {
    const own = await system.request('GET', '/api/wallet', { token: bob.token });
    expect(own.body.wallet.availableMicros).toBe('5000000');
    const credit = await system.request('POST', `/api/admin/wallets/${alice.id}/credit`, {
      token: bob.token,
      headers: { 'Idempotency-Key': `acl-credit-${randomUUID()}` },
      body: { amountMicros: '1000000' },
    });
    expect(credit.status).toBe(403);
    const wallet = await system.container.wallet.getWallet(alice.id);
    expect(wallet.availableMicros + wallet.heldMicros).toBe(5_000_000n);
    // The wallet endpoint has no user parameter to tamper with: a query string is ignored.
    const sneaky = await system.request('GET', `/api/wallet?userId=${alice.id}`, { token: bob.token });
    expect(sneaky.body.wallet.availableMicros).toBe('5000000');
  });

  it("another user's API key cannot be listed or revoked", async () => {
    const key = await createKey(system, alice.token, ['read']);
    const bobList = await system.request('GET', '/api/keys', { token: bob.token });
    expect(bobList.body.apiKeys).toEqual([]);
    const revoke = await system.request('DELETE', `/api/keys/${key.id}`, { token: bob.token });
    expect(revoke.status).toBe(404);
    expect((await system.container.db.apiKey.findUniqueOrThrow({ where: { id: key.id } })).revokedAt).toBeNull();
  });

  describe('admin routes', () => {
    let routes: RouteInfo[];
    beforeAll(() => {
      routes = adminRouteList(system.api.app);
    });

    const concrete = (path: string) => path.replace(':userId', alice.id).replace(':id', aliceActivation.id).replace(/:[A-Za-z]+/g, 'x');

    it('finds every admin route by walking the app (so new ones are covered without editing this test)', () => {
      const names = routes.map((r) => `${r.method} ${r.path}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'GET /api/admin/users',
          'POST /api/admin/wallets/:userId/credit',
          'GET /api/admin/activations',
          'GET /api/admin/activations/:id',
          'POST /api/admin/activations/:id/cancel',
          'GET /api/admin/invariants',
          'GET /api/admin/audit',
          'GET /api/admin/users/:userId',
          'POST /api/admin/wallets/:userId/debit',
          'POST /api/admin/activations/:id/terminate',
          'POST /api/admin/activations/:id/retry-step',
          'GET /api/admin/money',
          'GET /api/admin/reconciliation',
          'GET /api/admin/dashboard',
          'GET /api/admin/providers/:id/balance',
          'POST /api/admin/providers/:id/test-purchase',
          'GET /api/admin/audit/actions',
        ]),
      );
    });

    it('answers 403 to a customer on every one of them, and 401 without a token', async () => {
      expect(routes.length).toBeGreaterThanOrEqual(15);
      for (const route of routes) {
        const path = concrete(route.path);
        const asCustomer = await system.request(route.method, path, { token: bob.token, headers: { 'Idempotency-Key': `acl-${randomUUID()}` }, body: route.method === 'GET' ? undefined : {} });
        expect({ route: `${route.method} ${route.path}`, status: asCustomer.status }).toEqual({ route: `${route.method} ${route.path}`, status: 403 });
        expect(asCustomer.body.error.code).toBe('FORBIDDEN');
        const anonymous = await system.request(route.method, path, { body: route.method === 'GET' ? undefined : {} });
        expect({ route: `${route.method} ${route.path}`, status: anonymous.status }).toEqual({ route: `${route.method} ${route.path}`, status: 401 });
      }
      // Nothing happened: the customer's attempts did not cancel Alice's number.
      expect((await system.request('GET', `/api/numbers/${aliceActivation.id}`, { token: alice.token })).body.activation.status).toBe('ACTIVE');
    });

    it('an API key (even an admin’s) is no admin session', async () => {
      const adminKey = await createKey(system, system.adminToken, ['read', 'purchase']);
      expect((await system.request('GET', '/api/admin/users', { token: adminKey.key })).status).toBe(401);
      expect((await system.request('GET', '/api/admin/users', { headers: { 'x-api-key': adminKey.key } })).status).toBe(401);
    });
  });

  describe('audit trail', () => {
    it('records admin credits and cancels, shown to admins at GET /api/admin/audit', async () => {
      const credits = await system.request('GET', `/api/admin/audit?action=admin.wallet.credit&targetId=${alice.id}`, { token: system.adminToken });
      expect(credits.status).toBe(200);
      expect(credits.body.entries).toHaveLength(1);
      expect(credits.body.entries[0]).toMatchObject({ action: 'admin.wallet.credit', targetType: 'user', targetId: alice.id, ip: expect.any(String), details: { amountMicros: '5000000' } });

      const cancelled = await system.request('POST', `/api/admin/activations/${aliceActivation.id}/cancel`, { token: system.adminToken });
      expect(cancelled.status).toBe(200);
      const cancels = await system.request('GET', `/api/admin/audit?action=admin.activation.cancel`, { token: system.adminToken });
      expect(cancels.body.entries.map((e: { targetId: string }) => e.targetId)).toContain(aliceActivation.id);

      const logins = await system.request('GET', `/api/admin/audit?action=auth.login.success&limit=5`, { token: system.adminToken });
      expect(logins.body.entries.length).toBeGreaterThan(0);
      const invalid = await system.request('GET', `/api/admin/audit?action=not.a.thing`, { token: system.adminToken });
      expect(invalid.status).toBe(400);
    });
  });
});

import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startSystem, type TestSystem } from '../../support/system';
import { cookiePost, register, type BrowserSession } from './helpers';

/**
 * Access tokens (passport-jwt, HS256 pinned, issuer and audience checked), refresh-token rotation
 * with reuse detection, CSRF on the cookie-authenticated routes, and CORS.
 */

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('tokens, sessions and CSRF', () => {
  let system: TestSystem;
  let secret: string;
  let claims: (userId: string) => Record<string, unknown>;

  beforeAll(async () => {
    system = await startSystem({ env: { CORS_ORIGINS: 'https://partner-console.example' } });
    const { env } = system.config;
    secret = env.JWT_SECRET;
    claims = (userId) => ({ sub: userId, email: 'x@simgate.test', role: 'ADMIN', iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const me = (token: string) => system.request('GET', '/api/auth/me', { token });
  const adminUsers = (token: string) => system.request('GET', '/api/admin/users', { token });

  describe('access tokens', () => {
    let session: BrowserSession;
    beforeAll(async () => {
      session = await register(system);
    });

    it('accepts the issued token, with a short expiry', async () => {
      const response = await me(session.token);
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ id: session.user.id, role: 'CUSTOMER', emailVerified: false, twoFactorEnabled: false });
      const decoded = jwt.decode(session.token) as { exp: number; iat: number };
      expect(decoded.exp - decoded.iat).toBe(system.config.env.JWT_TTL_SECONDS);
    });

    it('refuses a tampered token (role raised, signature kept)', async () => {
      const [header, , signature] = session.token.split('.');
      const payload = { ...(jwt.decode(session.token) as object), role: 'ADMIN' };
      const forged = `${header}.${b64(payload)}.${signature}`;
      expect((await me(forged)).status).toBe(401);
      expect((await adminUsers(forged)).status).toBe(401);
    });

    it('refuses an expired token', async () => {
      const expired = jwt.sign({ email: session.email, role: 'CUSTOMER' }, secret, {
        algorithm: 'HS256',
        subject: session.user.id,
        issuer: system.config.env.JWT_ISSUER,
        audience: system.config.env.JWT_AUDIENCE,
        expiresIn: -10,
      });
      const response = await me(expired);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('UNAUTHORIZED');
    });

    it("refuses alg 'none'", async () => {
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(session.user.id))}.`;
      expect((await me(unsigned)).status).toBe(401);
      expect((await adminUsers(unsigned)).status).toBe(401);
    });

    it('refuses HS384 even when signed with the right secret (algorithm pinned)', async () => {
      const hs384 = jwt.sign(claims(session.user.id), secret, { algorithm: 'HS384' });
      expect((await me(hs384)).status).toBe(401);
      expect((await adminUsers(hs384)).status).toBe(401);
    });

    it('refuses RS256, both with the HS secret used as the "public key" and with a real RSA key', async () => {
      const header = b64({ alg: 'RS256', typ: 'JWT' });
      const body = b64(claims(session.user.id));
      const confused = `${header}.${body}.${createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')}`;
      expect((await me(confused)).status).toBe(401);

      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rs256 = jwt.sign(claims(session.user.id), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { algorithm: 'RS256' });
      expect((await me(rs256)).status).toBe(401);
    });

    it('refuses a token for another issuer or audience', async () => {
      const wrongIssuer = jwt.sign({ ...claims(session.user.id), role: 'CUSTOMER', iss: 'someone-else' }, secret, { algorithm: 'HS256' });
      const wrongAudience = jwt.sign({ ...claims(session.user.id), role: 'CUSTOMER', aud: 'another-api' }, secret, { algorithm: 'HS256' });
      expect((await me(wrongIssuer)).status).toBe(401);
      expect((await me(wrongAudience)).status).toBe(401);
    });
  });

  describe('refresh tokens', () => {
    it('sets an httpOnly, Secure, SameSite=Strict cookie scoped to /api/auth, stored hashed', async () => {
      const response = await system.request('POST', '/api/auth/register', { body: { email: `cookie-${Date.now()}@simgate.test`, password: 'customer-password' } });
      expect(response.status).toBe(201);
      expect(response.body).toEqual(expect.objectContaining({ token: expect.any(String), user: expect.any(Object), expiresIn: system.config.env.JWT_TTL_SECONDS, csrfToken: expect.any(String) }));
      const refresh = response.headers.getSetCookie().find((c) => c.startsWith('__Secure-sg.refresh='))!;
      expect(refresh).toBeDefined();
      expect(refresh).toMatch(/; HttpOnly/i);
      expect(refresh).toMatch(/; Secure/i);
      expect(refresh).toMatch(/; SameSite=Strict/i);
      expect(refresh).toMatch(/; Path=\/api\/auth(;|$)/i);
      const value = decodeURIComponent(refresh.split(';')[0].split('=')[1]);
      const rows = await system.container.db.refreshToken.findMany({ where: { userId: response.body.user.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0].tokenHash).not.toContain(value.split('.')[1]);
      expect(rows[0].tokenHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('rotates on every use: a new access token and a new refresh token of the same family', async () => {
      const session = await register(system);
      const first = session.jar.get('sg.refresh')!;
      const refreshed = await cookiePost(system, '/api/auth/refresh', session);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.user.id).toBe(session.user.id);
      expect((await me(refreshed.body.token)).status).toBe(200);
      const second = session.jar.get('sg.refresh')!;
      expect(second).not.toBe(first);
      // Same family (the CSRF token stays valid), new secret.
      expect(second.split('.')[0]).toBe(first.split('.')[0]);
      const again = await cookiePost(system, '/api/auth/refresh', session);
      expect(again.status).toBe(200);
    });

    it('reuse of a rotated token revokes the whole family, the newest token included, and is audited', async () => {
      const session = await register(system);
      const stolen = session.jar.header();
      const rotated = await cookiePost(system, '/api/auth/refresh', session);
      expect(rotated.status).toBe(200);
      const newest = session.jar.header();

      const replay = await system.request('POST', '/api/auth/refresh', { headers: { cookie: stolen, 'x-csrf-token': session.csrfToken } });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('REFRESH_REUSED');

      const owner = await system.request('POST', '/api/auth/refresh', { headers: { cookie: newest, 'x-csrf-token': session.csrfToken } });
      expect(owner.status).toBe(401);
      expect(owner.body.error.code).toBe('REFRESH_INVALID');

      const family = session.jar.get('sg.refresh')!.split('.')[0];
      const rows = await system.container.db.refreshToken.findMany({ where: { familyId: family } });
      expect(rows.length).toBe(2);
      expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
      const audit = await system.container.db.auditLog.findMany({ where: { action: 'auth.refresh.reuse', targetId: family } });
      expect(audit).toHaveLength(1);
      expect(audit[0].actorId).toBe(session.user.id);
    });

    it('refuses an expired refresh token', async () => {
      const session = await register(system);
      await system.container.db.refreshToken.updateMany({ where: { userId: session.user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const response = await cookiePost(system, '/api/auth/refresh', session);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('REFRESH_INVALID');
    });

    it('logout revokes the family, clears the cookie, and is audited', async () => {
      const session = await register(system);
      const before = session.jar.header();
      const out = await cookiePost(system, '/api/auth/logout', session);
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().some((c) => /^__Secure-sg\.refresh=;/.test(c) && /Expires=Thu, 01 Jan 1970/i.test(c))).toBe(true);
      const after = await system.request('POST', '/api/auth/refresh', { headers: { cookie: before, 'x-csrf-token': session.csrfToken } });
      expect(after.status).toBe(401);
      expect(await system.container.db.auditLog.count({ where: { action: 'auth.logout', actorId: session.user.id } })).toBe(1);
    });
  });

  describe('CSRF on cookie-authenticated routes', () => {
    it('refuses refresh and logout without the CSRF token, or with a wrong one', async () => {
      const session = await register(system);
      for (const path of ['/api/auth/refresh', '/api/auth/logout']) {
        const missing = await cookiePost(system, path, session, { csrf: null });
        expect(missing.status).toBe(403);
        expect(missing.body.error.code).toBe('CSRF_INVALID');
        const wrong = await cookiePost(system, path, session, { csrf: `${'0'.repeat(64)}.${'1'.repeat(64)}` });
        expect(wrong.status).toBe(403);
      }
      // The session still works: nothing was rotated or revoked by the refused calls.
      expect((await cookiePost(system, '/api/auth/refresh', session)).status).toBe(200);
    });

    it("refuses another session's CSRF token (tokens are bound to the sign-in session)", async () => {
      const alice = await register(system);
      const mallory = await register(system);
      // Mallory's own valid token and cookie pair, replayed against Alice's refresh cookie.
      const cookie = `${alice.jar.header().split('; ').filter((c) => c.includes('refresh')).join('; ')}; ${mallory.jar.header().split('; ').filter((c) => c.includes('csrf')).join('; ')}`;
      const response = await system.request('POST', '/api/auth/refresh', { headers: { cookie, 'x-csrf-token': mallory.csrfToken } });
      expect(response.status).toBe(403);
    });

    it('GET /api/auth/csrf hands out a working token for the current session', async () => {
      const session = await register(system);
      const fresh = await system.request('GET', '/api/auth/csrf', { headers: { cookie: session.jar.header() } });
      expect(fresh.status).toBe(200);
      session.jar.store(fresh.headers);
      const response = await cookiePost(system, '/api/auth/refresh', { jar: session.jar, csrfToken: fresh.body.csrfToken });
      expect(response.status).toBe(200);
    });

    it('bearer calls need no CSRF token', async () => {
      const session = await register(system);
      const created = await system.request('POST', '/api/keys', { token: session.token, body: { name: 'no csrf', scopes: ['read'] } });
      expect(created.status).toBe(201);
    });
  });

  describe('CORS and error hygiene', () => {
    it('answers allowed origins only', async () => {
      const allowed = await system.request('GET', '/api/catalog/services', { headers: { origin: 'https://partner-console.example' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://partner-console.example');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      const other = await system.request('GET', '/api/catalog/services', { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await system.request('OPTIONS', '/api/auth/refresh', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('never sends stack traces or internal messages', async () => {
      const malformed = await system.request('POST', '/api/auth/login', { body: '{"email": ', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.(js|ts):\d+|SyntaxError|node_modules/);
      expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    });
  });
});

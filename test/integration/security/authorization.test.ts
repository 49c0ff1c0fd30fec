import { randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startSystem, type TestSystem } from '../../support/system';
import { cookiePost, login, register, type BrowserSession } from './helpers';

/**
 * A valid signature is not enough: every request checks the user's row as it is now — that the
 * user exists, is not disabled, has the role the route needs, and that the token's version is
 * the current one (bumped on logout, demotion, disabling and password reset).
 */
describe('authorization from the database, on every request', () => {
  let system: TestSystem;
  let sign: (claims: Record<string, unknown>, subject: string) => string;

  beforeAll(async () => {
    system = await startSystem();
    const { env } = system.config;
    sign = (claims, subject) => jwt.sign(claims, env.JWT_SECRET, { algorithm: 'HS256', subject, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, expiresIn: 600 });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const me = (token: string) => system.request('GET', '/api/auth/me', { token });
  const adminUsers = (token: string) => system.request('GET', '/api/admin/users', { token });
  const setUser = (userId: string, body: Record<string, unknown>) => system.request('PATCH', `/api/admin/users/${userId}`, { token: system.adminToken, body });

  it('answers 401 to a correctly signed ADMIN token for a user id that does not exist', async () => {
    const ghost = sign({ email: 'ghost@simgate.test', role: 'ADMIN', ver: 0 }, randomUUID());
    expect((await adminUsers(ghost)).status).toBe(401);
    expect((await me(ghost)).status).toBe(401);
  });

  it("takes the role from the database, not from the token: a customer's token claiming ADMIN gets 403", async () => {
    const customer = await register(system);
    const claimsAdmin = sign({ email: customer.email, role: 'ADMIN', ver: 0 }, customer.user.id);
    expect((await me(claimsAdmin)).status).toBe(200);
    const response = await adminUsers(claimsAdmin);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });

  it('refuses a token without a version, or with an outdated one', async () => {
    const customer = await register(system);
    expect((await me(sign({ email: customer.email, role: 'CUSTOMER' }, customer.user.id))).status).toBe(401);
    expect((await me(sign({ email: customer.email, role: 'CUSTOMER', ver: -1 }, customer.user.id))).status).toBe(401);
  });

  it('a demoted admin loses admin access on the next request, not when the token expires', async () => {
    const promoted = await register(system);
    expect((await setUser(promoted.user.id, { role: 'ADMIN' })).body.user).toMatchObject({ role: 'ADMIN', disabled: false });
    const { response } = await login(system, promoted.email);
    const adminToken = response.body.token as string;
    expect((await adminUsers(adminToken)).status).toBe(200);

    expect((await setUser(promoted.user.id, { role: 'CUSTOMER' })).status).toBe(200);
    expect((await adminUsers(adminToken)).status).toBe(401);
    const again = await login(system, promoted.email);
    expect((await adminUsers(again.response.body.token)).status).toBe(403);
    expect(await system.container.db.auditLog.count({ where: { action: 'admin.user.update', targetId: promoted.user.id } })).toBe(2);
  });

  it('a disabled user is refused everywhere: access token, refresh, login and API key', async () => {
    const banned = await register(system);
    const key = await system.request('POST', '/api/keys', { token: banned.token, body: { name: 'bot', scopes: ['read'] } });
    expect(key.status).toBe(201);
    const apiKey = key.body.key as string;
    expect((await system.request('GET', '/api/v1/balance', { headers: { 'x-api-key': apiKey } })).status).toBe(200);

    expect((await setUser(banned.user.id, { disabled: true })).body.user).toMatchObject({ disabled: true });
    expect((await me(banned.token)).status).toBe(401);
    expect((await cookiePost(system, '/api/auth/refresh', banned)).status).toBe(401);
    const { response } = await login(system, banned.email);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_CREDENTIALS');
    expect((await system.request('GET', '/api/v1/balance', { headers: { 'x-api-key': apiKey } })).status).toBe(401);

    await setUser(banned.user.id, { disabled: false });
    expect((await login(system, banned.email)).response.status).toBe(200);
  });

  it('an admin cannot demote or disable themselves', async () => {
    const adminId = (jwt.decode(system.adminToken) as { sub: string }).sub;
    expect((await setUser(adminId, { role: 'CUSTOMER' })).status).toBe(403);
    expect((await adminUsers(system.adminToken)).status).toBe(200);
  });

  it('logout ends the access token too, not only the refresh cookie', async () => {
    const session: BrowserSession = await register(system);
    expect((await me(session.token)).status).toBe(200);
    expect((await cookiePost(system, '/api/auth/logout', session)).status).toBe(204);
    expect((await me(session.token)).status).toBe(401);
  });

  it('takes an access token from the Authorization header only, never from the URL (the SSE stream takes a one-use ticket)', async () => {
    const session = await register(system);
    expect((await fetch(`${system.api.url}/api/wallet?access_token=${session.token}`)).status).toBe(401);
    expect((await fetch(`${system.api.url}/api/events?access_token=${session.token}`)).status).toBe(401);
  });

  it('refuses admin bootstrap through /api/auth/setup when no setup token is configured', async () => {
    const response = await system.request('POST', '/api/auth/setup', { body: { token: randomBytes(32).toString('base64url'), email: `setup-${randomUUID()}@simgate.test`, password: 'a-long-unusual-passphrase-9' } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('TOKEN_INVALID');
  });
});

describe('the one-time admin setup token', () => {
  let system: TestSystem;
  const setupToken = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    system = await startSystem({ env: { ADMIN_SETUP_TOKEN: setupToken } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const setup = (token: string, password: string) =>
    system.request('POST', '/api/auth/setup', { body: { token, email: `setup-${randomUUID()}@simgate.test`, password } });

  it('checks the token first, then the password policy, and opens nothing once an admin exists', async () => {
    const wrong = await setup(randomBytes(32).toString('base64url'), 'a-long-unusual-passphrase-9');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('TOKEN_INVALID');
    // The right token gets as far as the password policy …
    const weak = await setup(setupToken, 'admin-password');
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('VALIDATION_ERROR');
    // … but this database already has admins (every test system creates one): the token is spent, answered like a wrong one.
    const spent = await setup(setupToken, 'a-long-unusual-passphrase-9');
    expect(spent.status).toBe(400);
    expect(spent.body).toEqual(wrong.body);
  });
});

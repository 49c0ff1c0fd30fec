import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../../../src/auth/tokens';
import { totpCode } from '../../../src/auth/totp';
import { startSystem, type TestSystem } from '../../support/system';
import { waitFor } from '../../support/wait';
import { cookiePost, latestMail, login, PASSWORD, register, tokenFromMail } from './helpers';

/** E-mail verification, password reset, TOTP two-factor and login lockout, through the mail outbox. */
describe('accounts', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({
      env: {
        // The lockout tests speak from several addresses through a proxy on loopback.
        TRUST_PROXY: 'loopback',
        LOGIN_MAX_FAILURES: '3',
        LOGIN_MAX_FAILURES_PER_EMAIL: '5',
        LOGIN_FAILURE_WINDOW_SECONDS: '60',
        LOGIN_LOCKOUT_SECONDS: '2',
        LOGIN_LOCKOUT_MAX_SECONDS: '8',
      },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const me = async (token: string) => (await system.request('GET', '/api/auth/me', { token })).body.user;
  const audits = (action: string, actorId: string) => system.container.db.auditLog.count({ where: { action, actorId } });

  describe('e-mail verification', () => {
    it('mails a single-use link at registration; the token is stored hashed', async () => {
      const session = await register(system);
      const mail = await latestMail(system, session.email);
      expect(mail?.subject).toMatch(/confirm your e-mail/i);
      const token = tokenFromMail(mail!.text);
      const stored = await system.container.db.oneTimeToken.findMany({ where: { userId: session.user.id, purpose: 'EMAIL_VERIFICATION' } });
      expect(stored).toHaveLength(1);
      expect(stored[0].tokenHash).toBe(sha256Hex(token));
      expect(stored[0].tokenHash).not.toContain(token);
      expect((await me(session.token)).emailVerified).toBe(false);

      const verified = await system.request('POST', '/api/auth/email/verify', { body: { token } });
      expect(verified.status).toBe(200);
      expect((await me(session.token)).emailVerified).toBe(true);
      expect(await audits('auth.email.verified', session.user.id)).toBe(1);

      const again = await system.request('POST', '/api/auth/email/verify', { body: { token } });
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('TOKEN_INVALID');
    });

    it('refuses an expired token, and a resend makes the older link useless', async () => {
      const session = await register(system);
      const first = tokenFromMail((await latestMail(system, session.email))!.text);
      await system.container.db.oneTimeToken.updateMany({ where: { userId: session.user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const expired = await system.request('POST', '/api/auth/email/verify', { body: { token: first } });
      expect(expired.status).toBe(400);
      expect(expired.body.error.code).toBe('TOKEN_INVALID');

      expect((await system.request('POST', '/api/auth/email/resend', { token: session.token })).status).toBe(202);
      const second = tokenFromMail((await latestMail(system, session.email))!.text);
      expect(second).not.toBe(first);
      expect((await system.request('POST', '/api/auth/email/verify', { body: { token: first } })).status).toBe(400);
      expect((await system.request('POST', '/api/auth/email/verify', { body: { token: second } })).status).toBe(200);
    });

    it('a password-reset token does not verify an e-mail (tokens are bound to their purpose)', async () => {
      const session = await register(system);
      await system.request('POST', '/api/auth/password/forgot', { body: { email: session.email } });
      const resetToken = tokenFromMail((await latestMail(system, session.email))!.text);
      expect((await system.request('POST', '/api/auth/email/verify', { body: { token: resetToken } })).status).toBe(400);
    });
  });

  describe('password reset', () => {
    it('says the same for unknown e-mails and mails nothing', async () => {
      const email = `nobody-${randomUUID()}@simgate.test`;
      const response = await system.request('POST', '/api/auth/password/forgot', { body: { email } });
      expect(response.status).toBe(202);
      expect(await latestMail(system, email)).toBeNull();
    });

    it('sets the new password, ends every session, is single-use and audited', async () => {
      const session = await register(system);
      const second = await login(system, session.email);
      expect(second.response.status).toBe(200);
      const secondSession = { jar: second.jar, csrfToken: second.response.body.csrfToken as string };

      const forgot = await system.request('POST', '/api/auth/password/forgot', { body: { email: session.email.toUpperCase() } });
      expect(forgot.status).toBe(202);
      const mail = await latestMail(system, session.email);
      expect(mail?.subject).toMatch(/reset your simgate password/i);
      const token = tokenFromMail(mail!.text);
      // Access tokens carry whole seconds: reset in a later second than they were issued.
      const issuedAt = Math.floor(Date.now() / 1000);
      await waitFor(async () => Math.floor(Date.now() / 1000) > issuedAt, { intervalMs: 20 });

      const reset = await system.request('POST', '/api/auth/password/reset', { body: { token, password: 'a-brand-new-password' } });
      expect(reset.status).toBe(200);
      expect(await audits('auth.password.reset', session.user.id)).toBe(1);

      // Every refresh token of the user is revoked, and access tokens issued before the reset stop working.
      expect((await cookiePost(system, '/api/auth/refresh', session)).status).toBe(401);
      expect((await cookiePost(system, '/api/auth/refresh', secondSession)).status).toBe(401);
      expect(await system.container.db.refreshToken.count({ where: { userId: session.user.id, revokedAt: null } })).toBe(0);
      expect((await system.request('GET', '/api/auth/me', { token: session.token })).status).toBe(401);

      expect((await login(system, session.email, PASSWORD)).response.status).toBe(401);
      const fresh = await login(system, session.email, 'a-brand-new-password');
      expect(fresh.response.status).toBe(200);
      expect((await system.request('GET', '/api/auth/me', { token: fresh.response.body.token })).status).toBe(200);

      const reused = await system.request('POST', '/api/auth/password/reset', { body: { token, password: 'yet-another-password' } });
      expect(reused.status).toBe(400);
      expect(reused.body.error.code).toBe('TOKEN_INVALID');
    });

    it('refuses an expired reset token', async () => {
      const session = await register(system);
      await system.request('POST', '/api/auth/password/forgot', { body: { email: session.email } });
      const token = tokenFromMail((await latestMail(system, session.email))!.text);
      await system.container.db.oneTimeToken.updateMany({ where: { userId: session.user.id, purpose: 'PASSWORD_RESET' }, data: { expiresAt: new Date(Date.now() - 1) } });
      const response = await system.request('POST', '/api/auth/password/reset', { body: { token, password: 'a-brand-new-password' } });
      expect(response.status).toBe(400);
      expect((await login(system, session.email, PASSWORD)).response.status).toBe(200);
    });
  });

  describe('TOTP two-factor', () => {
    it('enroll → confirm → login needs a code or a single-use recovery code → disable', async () => {
      const session = await register(system);
      const enrolled = await system.request('POST', '/api/auth/2fa/enroll', { token: session.token });
      expect(enrolled.status).toBe(200);
      const secret = enrolled.body.secret as string;
      expect(enrolled.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\/SimGate:.+secret=/);

      // The secret is stored as a SecretBox envelope for purpose 'totp', never in the clear.
      const row = await system.container.db.user.findUniqueOrThrow({ where: { id: session.user.id } });
      expect(row.totpSecret).toMatch(/^v\d+\./);
      expect(row.totpSecret).not.toContain(secret);
      expect(system.container.secrets.decrypt(row.totpSecret!, 'totp')).toBe(secret);

      // Not on until confirmed.
      expect((await login(system, session.email)).response.status).toBe(200);
      const wrongConfirm = await system.request('POST', '/api/auth/2fa/confirm', { token: session.token, body: { code: totpCode(secret, Date.now() + 10 * 60_000) } });
      expect(wrongConfirm.status).toBe(400);

      const confirmed = await system.request('POST', '/api/auth/2fa/confirm', { token: session.token, body: { code: totpCode(secret) } });
      expect(confirmed.status).toBe(200);
      const recoveryCodes = confirmed.body.recoveryCodes as string[];
      expect(recoveryCodes).toHaveLength(10);
      expect(new Set(recoveryCodes).size).toBe(10);
      const stored = await system.container.db.recoveryCode.findMany({ where: { userId: session.user.id } });
      expect(stored).toHaveLength(10);
      for (const code of recoveryCodes) expect(stored.some((s) => s.codeHash.includes(code.replace(/-/g, '')))).toBe(false);
      expect((await me(session.token)).twoFactorEnabled).toBe(true);
      expect(await audits('auth.2fa.enable', session.user.id)).toBe(1);

      const noCode = await login(system, session.email);
      expect(noCode.response.status).toBe(401);
      expect(noCode.response.body.error.code).toBe('TOTP_REQUIRED');
      expect(noCode.response.body.token).toBeUndefined();
      expect(noCode.jar.get('sg.refresh')).toBeUndefined();

      const wrongPasswordRightCode = await login(system, session.email, 'not-the-password', { totp: totpCode(secret, Date.now() + 30_000) });
      expect(wrongPasswordRightCode.response.body.error.code).toBe('INVALID_CREDENTIALS');

      // The confirm code's time step is spent; the next step's code is accepted (±1 step of drift) once.
      const nextCode = totpCode(secret, Date.now() + 30_000);
      const withCode = await login(system, session.email, PASSWORD, { totp: nextCode });
      expect(withCode.response.status).toBe(200);
      const replayed = await login(system, session.email, PASSWORD, { totp: nextCode });
      expect(replayed.response.status).toBe(401);
      expect(replayed.response.body.error.code).toBe('TOTP_INVALID');

      const withRecovery = await login(system, session.email, PASSWORD, { recoveryCode: recoveryCodes[3].toLowerCase() });
      expect(withRecovery.response.status).toBe(200);
      const recoveryAgain = await login(system, session.email, PASSWORD, { recoveryCode: recoveryCodes[3] });
      expect(recoveryAgain.response.status).toBe(401);
      expect(await system.container.db.recoveryCode.count({ where: { userId: session.user.id, usedAt: { not: null } } })).toBe(1);

      // Turning it off needs the password and a second factor.
      const token = withRecovery.response.body.token as string;
      expect((await system.request('POST', '/api/auth/2fa/disable', { token, body: { password: PASSWORD } })).status).toBe(401);
      expect((await system.request('POST', '/api/auth/2fa/disable', { token, body: { password: 'wrong-password', recoveryCode: recoveryCodes[4] } })).status).toBe(401);
      const disabled = await system.request('POST', '/api/auth/2fa/disable', { token, body: { password: PASSWORD, recoveryCode: recoveryCodes[5] } });
      expect(disabled.status).toBe(200);
      expect(await audits('auth.2fa.disable', session.user.id)).toBe(1);
      expect((await system.container.db.user.findUniqueOrThrow({ where: { id: session.user.id } })).totpSecret).toBeNull();
      expect((await login(system, session.email)).response.status).toBe(200);
    });
  });

  describe('login lockout', () => {
    const wrong = (email: string, ip?: string) => login(system, email, 'wrong-password', {}, ip ? { 'x-forwarded-for': ip } : {});

    it('locks an e-mail + IP after repeated failures (even for the right password), then lets it in again', async () => {
      const session = await register(system);
      for (let i = 0; i < 3; i++) expect((await wrong(session.email)).response.status).toBe(401);

      const locked = await login(system, session.email);
      expect(locked.response.status).toBe(429);
      expect(locked.response.body.error.code).toBe('LOGIN_LOCKED');
      expect(Number(locked.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(locked.response.body.token).toBeUndefined();
      expect(await system.container.db.auditLog.count({ where: { action: 'auth.lockout', targetId: session.user.id } })).toBe(1);
      expect(await system.container.db.auditLog.count({ where: { action: 'auth.login.failure', targetId: session.user.id } })).toBe(3);

      // Another IP is not locked out by this pair's failures.
      expect((await login(system, session.email, PASSWORD, {}, { 'x-forwarded-for': '203.0.113.7' })).response.status).toBe(200);

      const unlocked = await waitFor(
        async () => {
          const attempt = await login(system, session.email);
          return attempt.response.status === 200 ? attempt : null;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(unlocked.response.status).toBe(200);
      expect(await system.container.db.auditLog.count({ where: { action: 'auth.login.success', targetId: session.user.id } })).toBeGreaterThanOrEqual(2);
    });

    it('clears the failure count on success', async () => {
      const session = await register(system);
      for (let i = 0; i < 2; i++) expect((await wrong(session.email)).response.status).toBe(401);
      expect((await login(system, session.email)).response.status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await wrong(session.email)).response.status).toBe(401);
      expect((await login(system, session.email)).response.status).toBe(200);
    });

    it('backs off: the next lockout of the same e-mail lasts longer', async () => {
      const session = await register(system);
      for (let i = 0; i < 3; i++) await wrong(session.email, '198.51.100.1');
      const first = await login(system, session.email, PASSWORD, {}, { 'x-forwarded-for': '198.51.100.1' });
      expect(first.response.status).toBe(429);
      expect(first.response.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(2);
      for (let i = 0; i < 3; i++) await wrong(session.email, '198.51.100.2');
      const second = await login(system, session.email, PASSWORD, {}, { 'x-forwarded-for': '198.51.100.2' });
      expect(second.response.status).toBe(429);
      expect(second.response.body.error.details.retryAfterSeconds).toBeGreaterThan(2);
    });

    it('locks the e-mail from every IP after failures spread over many IPs', async () => {
      const session = await register(system);
      for (let i = 0; i < 5; i++) expect((await wrong(session.email, `192.0.2.${i + 10}`)).response.status).toBe(401);
      const elsewhere = await login(system, session.email, PASSWORD, {}, { 'x-forwarded-for': '192.0.2.200' });
      expect(elsewhere.response.status).toBe(429);
      expect(elsewhere.response.body.error.code).toBe('LOGIN_LOCKED');
    });

    it('treats an unknown e-mail like a wrong password (same answer, also throttled)', async () => {
      const email = `ghost-${randomUUID()}@simgate.test`;
      const first = await login(system, email);
      expect(first.response.status).toBe(401);
      expect(first.response.body.error.code).toBe('INVALID_CREDENTIALS');
      for (let i = 0; i < 2; i++) await login(system, email);
      expect((await login(system, email)).response.status).toBe(429);
    });
  });
});

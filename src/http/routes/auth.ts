import type { CookieOptions, Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { AuthService, Session } from '../../auth/auth.service';
import { refreshTokenFamily } from '../../auth/refresh-tokens';
import type { SecurityConfig } from '../../config/app.config';
import { AppError } from '../../lib/errors';
import { currentUser, requireUser } from '../middleware/auth';
import type { Csrf } from '../middleware/csrf';
import { clientIp, type RateLimits } from '../middleware/rate-limit';
import { valid, validate } from '../middleware/validate';

const email = z.email().max(254);
const password = z.string().min(8, 'must be at least 8 characters').max(200);
const totpCode = z.string().trim().regex(/^\d{6}$/, 'must be the 6-digit code');
const recoveryCode = z.string().trim().min(8).max(40);
const oneTimeToken = z.string().trim().min(1).max(200);

const credentials = { body: z.object({ email, password }) };
const login = { body: z.object({ email, password, totp: totpCode.optional(), recoveryCode: recoveryCode.optional() }) };
const tokenBody = { body: z.object({ token: oneTimeToken }).strict() };
const forgot = { body: z.object({ email }).strict() };
const reset = { body: z.object({ token: oneTimeToken, password }).strict() };
const confirm2fa = { body: z.object({ code: totpCode }).strict() };
const setup = { body: z.object({ token: oneTimeToken, email, password: z.string().min(1).max(200) }).strict() };
const disable2fa = { body: z.object({ password: z.string().min(1).max(200), totp: totpCode.optional(), recoveryCode: recoveryCode.optional() }).strict() };

/** The refresh cookie: httpOnly, Secure (unless configured off for http://localhost), SameSite=Strict, only sent to /api/auth. */
export const REFRESH_COOKIE_PATH = '/api/auth';
export const refreshCookieName = (secure: boolean) => (secure ? '__Secure-sg.refresh' : 'sg.refresh');

export function refreshFamilyOf(secure: boolean) {
  const name = refreshCookieName(secure);
  return (req: Request): string | null => refreshTokenFamily((req.cookies as Record<string, string> | undefined)?.[name]);
}

export interface AuthRouteDeps {
  auth: AuthService;
  rateLimits: RateLimits;
  csrf: Csrf;
  security: SecurityConfig;
}

/**
 * /api/auth. Register and login answer `{ token, user, expiresIn, csrfToken }` and set the refresh
 * cookie; the access token goes in `Authorization: Bearer` on every other call. Refresh and logout
 * are authenticated by the cookie and so need the CSRF token in X-CSRF-Token.
 */
export function authRoutes(deps: AuthRouteDeps): Router {
  const { auth, rateLimits, csrf, security } = deps;
  const router = Router();
  const cookieName = refreshCookieName(security.cookieSecure);
  const cookieOptions: CookieOptions = { httpOnly: true, secure: security.cookieSecure, sameSite: 'strict', path: REFRESH_COOKIE_PATH };
  const ctx = (req: Request) => ({ ip: clientIp(req) });
  const presentedRefresh = (req: Request): string | undefined => (req.cookies as Record<string, string> | undefined)?.[cookieName];

  const sendSession = (req: Request, res: Response, session: Session, status = 200) => {
    res.cookie(cookieName, session.refresh.token, { ...cookieOptions, expires: session.refresh.expiresAt });
    res.setHeader('Cache-Control', 'no-store');
    const csrfToken = csrf.issue(req, res, session.refresh.familyId);
    res.status(status).json({ token: session.token, user: session.user, expiresIn: session.expiresIn, csrfToken });
  };

  router.use(csrf.cookies);

  router.post('/register', rateLimits.login, validate(credentials), async (req, res) => {
    const { body } = valid(res, credentials);
    sendSession(req, res, await auth.register(body), 201);
  });

  /** Production bootstrap (ADMIN_SETUP_TOKEN): creates the first admin and signs them in. */
  router.post('/setup', rateLimits.login, validate(setup), async (req, res) => {
    const { body } = valid(res, setup);
    sendSession(req, res, await auth.setupFirstAdmin(body, ctx(req)), 201);
  });

  router.post('/login', rateLimits.login, validate(login), async (req, res) => {
    const { body } = valid(res, login);
    try {
      sendSession(req, res, await auth.login(body, ctx(req)));
    } catch (error) {
      if (error instanceof AppError && error.code === 'LOGIN_LOCKED') res.setHeader('Retry-After', String(error.details?.retryAfterSeconds ?? 60));
      throw error;
    }
  });

  router.get('/csrf', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ csrfToken: csrf.issue(req, res) });
  });

  router.post('/refresh', rateLimits.login, csrf.protect, async (req, res) => {
    try {
      sendSession(req, res, await auth.refresh(presentedRefresh(req), ctx(req)));
    } catch (error) {
      res.clearCookie(cookieName, cookieOptions);
      throw error;
    }
  });

  router.post('/logout', csrf.protect, async (req, res) => {
    await auth.logout(presentedRefresh(req), ctx(req));
    res.clearCookie(cookieName, cookieOptions);
    res.status(204).end();
  });

  router.get('/me', requireUser, rateLimits.user, async (req, res) => {
    res.json({ user: await auth.profile(currentUser(req).id) });
  });

  router.post('/email/verify', rateLimits.login, validate(tokenBody), async (req, res) => {
    const { body } = valid(res, tokenBody);
    await auth.verifyEmail(body.token, ctx(req));
    res.json({ ok: true });
  });

  router.post('/email/resend', requireUser, rateLimits.login, async (req, res) => {
    await auth.sendEmailVerification(currentUser(req).id);
    res.status(202).json({ ok: true });
  });

  router.post('/password/forgot', rateLimits.login, validate(forgot), async (_req, res) => {
    const { body } = valid(res, forgot);
    await auth.requestPasswordReset(body.email);
    res.status(202).json({ ok: true });
  });

  router.post('/password/reset', rateLimits.login, validate(reset), async (req, res) => {
    const { body } = valid(res, reset);
    await auth.resetPassword(body.token, body.password, ctx(req));
    res.json({ ok: true });
  });

  router.post('/2fa/enroll', requireUser, rateLimits.user, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await auth.enrollTotp(currentUser(req).id));
  });

  router.post('/2fa/confirm', requireUser, rateLimits.login, validate(confirm2fa), async (req, res) => {
    const { body } = valid(res, confirm2fa);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await auth.confirmTotp(currentUser(req).id, body.code, ctx(req)));
  });

  router.post('/2fa/disable', requireUser, rateLimits.login, validate(disable2fa), async (req, res) => {
    const { body } = valid(res, disable2fa);
    await auth.disableTotp(currentUser(req).id, body, ctx(req));
    res.json({ ok: true });
  });

  return router;
}

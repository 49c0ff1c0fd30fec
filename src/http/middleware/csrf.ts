import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../../lib/errors';

export interface Csrf {
  /** Parses cookies (the CSRF and refresh cookies) for the routes below it. */
  cookies: RequestHandler;
  /** Refuses a state-changing request without a matching X-CSRF-Token header: 403 CSRF_INVALID. */
  protect: RequestHandler;
  /** The token (and its cookie) for `session`, or the request's own session: the current one if still valid, else a new one. */
  issue(req: Request, res: Response, session?: string): string;
}

/**
 * CSRF protection for the routes a cookie authenticates (refresh, logout), with csrf-csrf's signed
 * double-submit: a random value HMAC-ed with the server secret and the session identifier goes
 * into an httpOnly cookie and, separately, to the client, which echoes it in X-CSRF-Token. A
 * cross-site page can make the browser send the cookie but can read neither value. The session
 * identifier is the refresh token's family (stable across rotations), so a token stays valid for
 * one sign-in session and is useless in any other. Bearer and API-key calls carry no ambient
 * credential and need no CSRF token.
 */
export function createCsrf(options: { secret: string; secure: boolean; sessionOf: (req: Request) => string | null }): Csrf {
  const sessionOverride = new WeakMap<Request, string>();
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => options.secret,
    getSessionIdentifier: (req) => sessionOverride.get(req) ?? options.sessionOf(req) ?? 'anonymous',
    // __Host- cookies must be Secure, Path=/ and host-only: no subdomain can plant one.
    cookieName: options.secure ? '__Host-sg.csrf' : 'sg.csrf',
    cookieOptions: { sameSite: 'strict', path: '/', secure: options.secure, httpOnly: true },
    getCsrfTokenFromRequest: (req) => req.get('x-csrf-token'),
  });
  return {
    cookies: cookieParser(),
    protect: (req: Request, res: Response, next: NextFunction) => {
      doubleCsrfProtection(req, res, (error?: unknown) => {
        if (error) return next(new AppError('CSRF_INVALID', 'Missing or invalid CSRF token: fetch one from GET /api/auth/csrf and send it in X-CSRF-Token.'));
        next();
      });
    },
    issue(req, res, session) {
      if (session !== undefined) sessionOverride.set(req, session);
      // A cookie that is still valid for this session is kept (a token in another tab stays good).
      return generateCsrfToken(req, res, { overwrite: false });
    },
  };
}

import type { NextFunction, Request, Response } from 'express';
import passport from 'passport';
import type { AuthUser } from '../../auth/auth.service';
import type { Actor } from '../../lib/audit';
import { AppError } from '../../lib/errors';
import { clientIp } from './rate-limit';

/** Passport strategy names: the bearer header everywhere; the `access_token` query only where EventSource needs it. */
export const JWT_STRATEGY = 'jwt';
export const JWT_STREAM_STRATEGY = 'jwt-stream';

function authenticateWith(strategy: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    passport.authenticate(strategy, { session: false }, (error: unknown, user: AuthUser | false) => {
      if (error) return next(error);
      if (!user) return next(new AppError('UNAUTHORIZED', 'Sign in first: the access token is missing, expired or invalid.'));
      req.user = user;
      next();
    })(req, res, next);
  };
}

/** Bearer JWT via passport-jwt, checked against the user's current row; sets req.user or answers 401 UNAUTHORIZED. */
export const requireUser = authenticateWith(JWT_STRATEGY);

/** requireUser that also takes `?access_token=`: for the SSE stream only (EventSource cannot send headers). */
export const requireStreamUser = authenticateWith(JWT_STREAM_STRATEGY);

export function requireAdmin(req: Request, _res: Response, next: NextFunction) {
  if (currentUser(req).role !== 'ADMIN') return next(new AppError('FORBIDDEN', 'Admin access required.'));
  next();
}

export function currentUser(req: Request): AuthUser {
  if (!req.user) throw new AppError('UNAUTHORIZED', 'Sign in first.');
  return req.user as AuthUser;
}

/** The signed-in user and their address, as audited actions record them. */
export function actorOf(req: Request): Actor {
  return { id: currentUser(req).id, ip: clientIp(req) };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthUser {}
  }
}

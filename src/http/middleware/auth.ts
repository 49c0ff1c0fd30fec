import type { NextFunction, Request, Response } from 'express';
import passport from 'passport';
import type { AuthService, AuthUser } from '../../auth/auth.service';
import type { Actor } from '../../lib/audit';
import { AppError } from '../../lib/errors';
import { clientIp } from './rate-limit';

/** Passport strategy name: the bearer header, the only place an access token is taken from. */
export const JWT_STRATEGY = 'jwt';

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

/**
 * The SSE stream's sign-in: a one-use `?ticket=` (EventSource cannot send headers; see
 * src/auth/stream-tickets.ts), else the bearer header for clients that can send one. An access
 * token in the URL is never read.
 */
export function requireStreamUser(auth: AuthService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const { ticket } = req.query;
    if (ticket === undefined) return requireUser(req, res, next);
    if (typeof ticket !== 'string') return next(new AppError('UNAUTHORIZED', 'The stream ticket is missing, used or expired: ask POST /api/events/ticket for a new one.'));
    auth.redeemStreamTicket(ticket).then((user) => {
      if (!user) return next(new AppError('UNAUTHORIZED', 'The stream ticket is missing, used or expired: ask POST /api/events/ticket for a new one.'));
      req.user = user;
      next();
    }, next);
  };
}

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

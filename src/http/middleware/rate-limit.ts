import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitRule, SecurityConfig } from '../../config/app.config';
import { AppError } from '../../lib/errors';

type KeyOf = (req: Request, res: Response) => string | null;

/**
 * Redis-backed rate limits (rate-limiter-flexible), shared by every API process: per client IP on
 * all of /api, per user on authenticated routes, and tighter ones for sign-in and purchases. A
 * refused request gets 429 RATE_LIMITED with Retry-After; every answer carries the IETF
 * RateLimit-Limit / -Remaining / -Reset headers of the tightest limit it went through. Should Redis
 * fail, an in-process limiter with the same rule stands in (per process, so looser, never open).
 */
export class RateLimits {
  readonly ip: RequestHandler;
  readonly user: RequestHandler;
  readonly login: RequestHandler;
  readonly purchase: RequestHandler;
  readonly webhook: RequestHandler;
  /** Per API key: one partner's runaway script cannot use up its other keys' share. */
  readonly apiKey: RequestHandler;

  constructor(deps: { redis: Redis; config: SecurityConfig['rateLimits'] }) {
    const { config } = deps;
    const make = (name: string, rule: RateLimitRule, keyOf: KeyOf): RequestHandler => {
      if (!config.enabled) return (_req, _res, next) => next();
      const limiter = new RateLimiterRedis({
        storeClient: deps.redis,
        keyPrefix: `${config.prefix}:${name}`,
        points: rule.points,
        duration: rule.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${config.prefix}:${name}`, points: rule.points, duration: rule.windowSeconds }),
      });
      return limit(limiter, rule, keyOf);
    };
    this.ip = make('ip', config.ip, clientIp);
    this.user = make('user', config.user, (req) => (req.user ? req.user.id : null));
    this.login = make('login', config.login, clientIp);
    this.purchase = make('purchase', config.purchase, (req) => (req.user ? req.user.id : clientIp(req)));
    this.webhook = make('webhook', config.webhook, clientIp);
    this.apiKey = make('apikey', config.apiKey, (_req, res) => (res.locals.apiKey as { keyId?: string } | undefined)?.keyId ?? null);
  }
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function limit(limiter: RateLimiterRedis, rule: RateLimitRule, keyOf: KeyOf): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = keyOf(req, res);
    if (key === null) return next();
    limiter.consume(key).then(
      (result) => {
        setHeaders(res, rule, result);
        next();
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        setHeaders(res, rule, rejection, true);
        res.setHeader('Retry-After', String(retryAfterSeconds));
        next(new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds }));
      },
    );
  };
}

/** Shows the limit with the fewest requests left among those this request went through. */
function setHeaders(res: Response, rule: RateLimitRule, result: RateLimiterRes, refused = false): void {
  const remaining = refused ? 0 : result.remainingPoints;
  const shown = res.locals.rateLimitRemaining as number | undefined;
  if (shown !== undefined && shown < remaining) return;
  res.locals.rateLimitRemaining = remaining;
  res.setHeader('RateLimit-Limit', String(rule.points));
  res.setHeader('RateLimit-Remaining', String(remaining));
  res.setHeader('RateLimit-Reset', String(Math.max(0, Math.ceil(result.msBeforeNext / 1000))));
}

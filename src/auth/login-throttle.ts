import type Redis from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { SecurityConfig } from '../config/app.config';
import { AppError } from '../lib/errors';

export interface LockoutState {
  /** Seconds until the lockout ends; null when the attempt may go on. */
  retryAfterSeconds: number | null;
}

/**
 * Login lockout with back-off (rate-limiter-flexible over Redis, shared by every API process):
 * consecutive failures are counted per e-mail + IP and per e-mail from anywhere; reaching either
 * limit locks that key. The first lockout lasts `lockoutSeconds`, each further lockout of the same
 * e-mail within a day twice as long (up to `maxLockoutSeconds`). A success clears the counters.
 */
export class LoginThrottle {
  private readonly byEmailIp: RateLimiterRedis;
  private readonly byEmail: RateLimiterRedis;
  private readonly lockouts: RateLimiterRedis;

  constructor(private readonly deps: { redis: Redis; prefix: string; rules: SecurityConfig['loginLockout'] }) {
    const { redis, prefix, rules } = deps;
    this.byEmailIp = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:login-fail:email-ip`, points: rules.maxFailures, duration: rules.windowSeconds });
    this.byEmail = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:login-fail:email`, points: rules.maxFailuresPerEmail, duration: rules.windowSeconds });
    this.lockouts = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:login-lockouts`, points: 1_000_000, duration: 86_400 });
  }

  /** Throws 429 LOGIN_LOCKED while either key is locked; checked before the password is. */
  async assertNotLocked(email: string, ip: string): Promise<void> {
    const [pair, mail] = await Promise.all([this.byEmailIp.get(pairKey(email, ip)), this.byEmail.get(email)]);
    const waits = [lockedFor(pair, this.deps.rules.maxFailures), lockedFor(mail, this.deps.rules.maxFailuresPerEmail)].filter((s): s is number => s !== null);
    if (waits.length > 0) throw lockedError(Math.max(...waits));
  }

  /** Counts a failure; returns the lockout it started, if this failure reached a limit. */
  async recordFailure(email: string, ip: string): Promise<LockoutState> {
    const { rules } = this.deps;
    const [pair, mail] = await Promise.all([this.byEmailIp.penalty(pairKey(email, ip)), this.byEmail.penalty(email)]);
    const pairHit = pair.consumedPoints === rules.maxFailures;
    const mailHit = mail.consumedPoints === rules.maxFailuresPerEmail;
    if (!pairHit && !mailHit) return { retryAfterSeconds: null };
    const { consumedPoints: nth } = await this.lockouts.penalty(email);
    const seconds = Math.min(rules.lockoutSeconds * 2 ** Math.min(nth - 1, 30), rules.maxLockoutSeconds);
    await Promise.all([pairHit ? this.byEmailIp.block(pairKey(email, ip), seconds) : null, mailHit ? this.byEmail.block(email, seconds) : null]);
    return { retryAfterSeconds: seconds };
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await Promise.all([this.byEmailIp.delete(pairKey(email, ip)), this.byEmail.delete(email)]);
  }

  /** After a password reset the owner proved control of the mailbox: lift every lock on the e-mail. */
  async clearEmail(email: string, ip: string): Promise<void> {
    await Promise.all([this.byEmailIp.delete(pairKey(email, ip)), this.byEmail.delete(email), this.lockouts.delete(email)]);
  }
}

const pairKey = (email: string, ip: string) => `${email}|${ip}`;

function lockedFor(res: RateLimiterRes | null, limit: number): number | null {
  if (!res || res.consumedPoints < limit || res.msBeforeNext <= 0) return null;
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export function lockedError(retryAfterSeconds: number): AppError {
  return new AppError('LOGIN_LOCKED', `Too many failed sign-ins. Try again in ${retryAfterSeconds} s or reset your password.`, { retryAfterSeconds });
}

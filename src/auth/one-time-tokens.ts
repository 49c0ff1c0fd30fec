import type { Db } from '../db/client';
import { randomToken, sha256Hex } from './tokens';

export type OneTimePurpose = 'EMAIL_VERIFICATION' | 'PASSWORD_RESET';

/**
 * Tokens mailed to the user (verify the e-mail, reset the password): 32 random bytes, stored as
 * SHA-256 in one_time_tokens, bound to a purpose, expiring, and usable once — consuming is a
 * single conditional UPDATE, so two concurrent uses cannot both succeed.
 */
export class OneTimeTokens {
  constructor(private readonly deps: { db: Db; now?: () => Date }) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** A new token; the user's earlier unused tokens of the same purpose stop working. */
  async issue(userId: string, purpose: OneTimePurpose, ttlSeconds: number): Promise<string> {
    const token = randomToken(32);
    const now = this.now();
    await this.deps.db.$transaction([
      this.deps.db.oneTimeToken.deleteMany({ where: { userId, purpose, usedAt: null } }),
      this.deps.db.oneTimeToken.create({ data: { userId, purpose, tokenHash: sha256Hex(token), expiresAt: new Date(now.getTime() + ttlSeconds * 1000) } }),
    ]);
    return token;
  }

  /** The user id the token belongs to, or null when it is unknown, used, expired or for another purpose. */
  async consume(token: string, purpose: OneTimePurpose): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const tokenHash = sha256Hex(token);
    const now = this.now();
    const { count } = await this.deps.db.oneTimeToken.updateMany({ where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count !== 1) return null;
    const row = await this.deps.db.oneTimeToken.findUnique({ where: { tokenHash }, select: { userId: true } });
    return row?.userId ?? null;
  }
}

import type Redis from 'ioredis';
import type { Db } from '../db/client';
import { AppError } from '../lib/errors';
import type { SecretBox } from '../lib/secrets';
import { generateRecoveryCodes, generateTotpSecret, hashRecoveryCode, matchTotp, totpUri, TOTP_PERIOD_SECONDS } from './totp';

export const TOTP_SECRET_PURPOSE = 'totp';

export type SecondFactor = { totp?: string | null; recoveryCode?: string | null };

/**
 * Optional TOTP two-factor: enroll (secret stored as a SecretBox envelope, purpose 'totp') →
 * confirm with a code (enables it and returns 10 recovery codes, shown once, stored hashed) →
 * login then needs a code or an unused recovery code. A code is accepted once per time step.
 */
export class TwoFactorService {
  constructor(private readonly deps: { db: Db; redis: Redis; secrets: SecretBox; redisPrefix: string; now?: () => number }) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async enroll(userId: string): Promise<{ secret: string; otpauthUrl: string }> {
    const user = await this.deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (user.totpEnabledAt) throw new AppError('TOTP_ALREADY_ENABLED', 'Two-factor sign-in is already on; turn it off first to enroll a new device.');
    const secret = generateTotpSecret();
    await this.deps.db.user.update({ where: { id: userId }, data: { totpSecret: this.deps.secrets.encrypt(secret, TOTP_SECRET_PURPOSE) } });
    return { secret, otpauthUrl: totpUri(secret, user.email) };
  }

  /** The first good code turns 2FA on; the recovery codes are returned here and never again. */
  async confirm(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
    const user = await this.deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (user.totpEnabledAt) throw new AppError('TOTP_ALREADY_ENABLED', 'Two-factor sign-in is already on.');
    if (!user.totpSecret) throw new AppError('TOTP_NOT_ENROLLED', 'Start enrollment first (POST /api/auth/2fa/enroll).');
    if (!(await this.checkTotp(userId, user.totpSecret, code))) throw new AppError('TOTP_CONFIRMATION_INVALID', 'That code is not valid; check the device clock and try the next code.');
    const recoveryCodes = generateRecoveryCodes();
    await this.deps.db.$transaction([
      this.deps.db.recoveryCode.deleteMany({ where: { userId } }),
      this.deps.db.recoveryCode.createMany({ data: recoveryCodes.map((c) => ({ userId, codeHash: hashRecoveryCode(c) })) }),
      this.deps.db.user.update({ where: { id: userId }, data: { totpEnabledAt: new Date(this.now()) } }),
    ]);
    return { recoveryCodes };
  }

  async disable(userId: string): Promise<void> {
    await this.deps.db.$transaction([
      this.deps.db.recoveryCode.deleteMany({ where: { userId } }),
      this.deps.db.user.update({ where: { id: userId }, data: { totpSecret: null, totpEnabledAt: null } }),
    ]);
  }

  isEnabled(user: { totpEnabledAt: Date | null; totpSecret: string | null }): boolean {
    return user.totpEnabledAt !== null && user.totpSecret !== null;
  }

  /** Checks a second factor for a user with 2FA on: a TOTP code, or an unused recovery code (then spent). */
  async verify(user: { id: string; totpSecret: string | null }, factor: SecondFactor): Promise<'totp' | 'recovery' | null> {
    if (factor.totp && user.totpSecret && (await this.checkTotp(user.id, user.totpSecret, factor.totp))) return 'totp';
    if (factor.recoveryCode) {
      const codeHash = hashRecoveryCode(factor.recoveryCode);
      const { count } = await this.deps.db.recoveryCode.updateMany({ where: { userId: user.id, codeHash, usedAt: null }, data: { usedAt: new Date(this.now()) } });
      if (count === 1) return 'recovery';
    }
    return null;
  }

  async remainingRecoveryCodes(userId: string): Promise<number> {
    return this.deps.db.recoveryCode.count({ where: { userId, usedAt: null } });
  }

  /** A matching code whose time step was not used before (a code seen once cannot be replayed). */
  private async checkTotp(userId: string, envelope: string, code: string): Promise<boolean> {
    const secret = this.deps.secrets.decrypt(envelope, TOTP_SECRET_PURPOSE);
    const step = matchTotp(secret, code, this.now());
    if (step === null) return false;
    const fresh = await this.deps.redis.set(`${this.deps.redisPrefix}:totp-used:${userId}:${step}`, '1', 'EX', TOTP_PERIOD_SECONDS * 4, 'NX');
    return fresh === 'OK';
  }
}

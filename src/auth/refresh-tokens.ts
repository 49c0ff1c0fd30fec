import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import { randomToken, sha256Hex } from './tokens';

/**
 * Refresh tokens: `<familyId>.<32 random bytes, base64url>`, stored as SHA-256 in refresh_tokens.
 * Each use rotates: the presented token is marked rotated and a new one of the same family is
 * issued. Presenting a token that was already rotated means someone kept a copy, so the whole
 * family (the thief's copy and the owner's newest token alike) is revoked.
 *
 * The family id is in the clear because it is not a secret: it binds CSRF tokens to the sign-in
 * session (src/http/middleware/csrf.ts) across rotations.
 */
const TOKEN_PATTERN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedRefreshToken {
  token: string;
  familyId: string;
  expiresAt: Date;
}

export type RotationResult =
  | { kind: 'rotated'; userId: string; issued: IssuedRefreshToken }
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' };

export function refreshTokenFamily(token: string | undefined | null): string | null {
  if (!token) return null;
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

export class RefreshTokenStore {
  constructor(private readonly deps: { db: Db; ttlSeconds: number; now?: () => Date }) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async issue(userId: string, familyId: string = randomUUID(), db: Pick<Db, 'refreshToken'> = this.deps.db): Promise<IssuedRefreshToken> {
    const token = `${familyId}.${randomToken(32)}`;
    const expiresAt = new Date(this.now().getTime() + this.deps.ttlSeconds * 1000);
    await db.refreshToken.create({ data: { userId, familyId, tokenHash: sha256Hex(token), expiresAt } });
    return { token, familyId, expiresAt };
  }

  /** One use of a refresh token. The claim is a conditional update, so two concurrent uses cannot both win. */
  async rotate(token: string): Promise<RotationResult> {
    if (!refreshTokenFamily(token)) return { kind: 'invalid' };
    const { db } = this.deps;
    const row = await db.refreshToken.findUnique({ where: { tokenHash: sha256Hex(token) } });
    if (!row) return { kind: 'invalid' };
    if (row.rotatedAt) {
      await this.revokeFamily(row.familyId);
      return { kind: 'reused', userId: row.userId, familyId: row.familyId };
    }
    const now = this.now();
    if (row.revokedAt || row.expiresAt <= now) return { kind: 'invalid' };

    const issued = await db.$transaction(async (tx) => {
      const claimed = await tx.refreshToken.updateMany({ where: { id: row.id, rotatedAt: null, revokedAt: null }, data: { rotatedAt: now } });
      if (claimed.count !== 1) return null;
      return this.issue(row.userId, row.familyId, tx);
    });
    if (!issued) {
      // Lost a race against another use of the same token: that is reuse too.
      await this.revokeFamily(row.familyId);
      return { kind: 'reused', userId: row.userId, familyId: row.familyId };
    }
    return { kind: 'rotated', userId: row.userId, issued };
  }

  /** The token's family, when the token is one we issued (used or not); for logout. */
  async familyOf(token: string): Promise<{ familyId: string; userId: string } | null> {
    if (!refreshTokenFamily(token)) return null;
    const row = await this.deps.db.refreshToken.findUnique({ where: { tokenHash: sha256Hex(token) }, select: { familyId: true, userId: true } });
    return row;
  }

  async revokeFamily(familyId: string): Promise<number> {
    const { count } = await this.deps.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: this.now() } });
    return count;
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const { count } = await this.deps.db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: this.now() } });
    return count;
  }
}

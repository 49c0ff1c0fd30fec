import { createSecretKey, type KeyObject } from 'node:crypto';
import type Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { SecurityConfig } from '../config/app.config';
import type { Db } from '../db/client';
import { Prisma } from '../db/client';
import type { AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { FailureCode } from '../../workflows/contracts';
import type { SecretBox } from '../lib/secrets';
import type { Mailer } from '../notify/mail';
import type { WalletService } from '../wallet';
import { LoginThrottle } from './login-throttle';
import { OneTimeTokens } from './one-time-tokens';
import { hashPassword, verifyPassword } from './passwords';
import { RefreshTokenStore, type IssuedRefreshToken } from './refresh-tokens';
import { TwoFactorService, type SecondFactor } from './two-factor';
import { StreamTickets } from './stream-tickets';
import { safeEqual, sha256Hex } from './tokens';
import { adminPasswordWeakness } from '../config/secret-strength';

export type Role = 'CUSTOMER' | 'ADMIN';

export interface AuthUser {
  id: string;
  email: string;
  role: Role;
}

export interface JwtSettings {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Who is asking: the client IP goes into lockout keys and audit entries. */
export interface RequestContext {
  ip: string;
}

/** A signed-in session: the access token for the Authorization header, the refresh token for the cookie. */
export interface Session {
  user: AuthUser;
  token: string;
  expiresIn: number;
  refresh: IssuedRefreshToken;
}

export interface Profile extends AuthUser {
  emailVerified: boolean;
  twoFactorEnabled: boolean;
}

/** The algorithm is pinned on both sides: a token signed any other way (or `none`) is refused. */
const ALGORITHM = 'HS256';

// Comparing against a real hash keeps "unknown e-mail" as slow as "wrong password".
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const normalizeEmail = (email: string) => email.trim().toLowerCase();

export interface AuthServiceDeps {
  db: Db;
  wallet: WalletService;
  jwt: JwtSettings;
  redis: Redis;
  secrets: SecretBox;
  mailer: Mailer;
  audit: AuditLog;
  security: SecurityConfig;
  /** REDIS_PREFIX, for keys of the deployment's own (stream tickets); default: the rate-limit prefix. */
  redisPrefix?: string;
}

/**
 * Accounts and sessions: register, login (lockout, optional TOTP), refresh-token rotation with
 * reuse detection, logout, e-mail verification and password reset by mailed one-time tokens.
 */
export class AuthService {
  readonly refreshTokens: RefreshTokenStore;
  readonly oneTimeTokens: OneTimeTokens;
  readonly twoFactor: TwoFactorService;
  readonly throttle: LoginThrottle;
  readonly streamTickets: StreamTickets;
  private readonly redisPrefix: string;

  /**
   * The JWT secret as a key object, made once: given a string, jsonwebtoken first tries to parse it
   * as a PEM public key on every verify and sign, and the exception that fails costs more than the
   * HMAC itself (a measurable share of every authenticated request's CPU).
   */
  private readonly jwtKey: KeyObject;

  constructor(private readonly deps: AuthServiceDeps) {
    const { db, redis, secrets, security } = deps;
    this.jwtKey = createSecretKey(Buffer.from(deps.jwt.secret));
    this.redisPrefix = security.rateLimits.prefix;
    this.refreshTokens = new RefreshTokenStore({ db, ttlSeconds: security.refreshTokenTtlSeconds });
    this.oneTimeTokens = new OneTimeTokens({ db });
    this.twoFactor = new TwoFactorService({ db, redis, secrets, redisPrefix: this.redisPrefix });
    this.throttle = new LoginThrottle({ redis, prefix: this.redisPrefix, rules: security.loginLockout });
    this.streamTickets = new StreamTickets({ redis, prefix: deps.redisPrefix ?? this.redisPrefix, ttlSeconds: security.streamTicketTtlSeconds });
  }

  async register(input: { email: string; password: string; role?: Role }): Promise<Session> {
    const user = await this.createUser(input);
    await this.sendEmailVerification(user.id);
    return this.startSession(user);
  }

  async login(input: { email: string; password: string } & SecondFactor, ctx: RequestContext): Promise<Session> {
    const email = normalizeEmail(input.email);
    const { audit } = this.deps;
    await this.throttle.assertNotLocked(email, ctx.ip);
    const user = await this.deps.db.user.findUnique({ where: { email } });
    const passwordOk = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);

    let failure: { code: FailureCode; message: string; reason: string } | null = null;
    if (!user || !passwordOk) {
      failure = { code: 'INVALID_CREDENTIALS', message: 'Wrong e-mail or password.', reason: user ? 'bad_password' : 'unknown_email' };
    } else if (user.disabledAt) {
      // The same answer as a wrong password: a disabled account is not confirmed to exist.
      failure = { code: 'INVALID_CREDENTIALS', message: 'Wrong e-mail or password.', reason: 'disabled' };
    } else if (this.twoFactor.isEnabled(user)) {
      if (!input.totp && !input.recoveryCode) {
        failure = { code: 'TOTP_REQUIRED', message: 'Enter the code from your authenticator app (or a recovery code).', reason: 'totp_required' };
      } else if (!(await this.twoFactor.verify(user, input))) {
        failure = { code: 'TOTP_INVALID', message: 'That code is not valid.', reason: 'bad_second_factor' };
      }
    }
    if (failure) {
      // Every failure counts toward the lockout, a missing second factor too: otherwise
      // TOTP_REQUIRED would be an unthrottled "the password was right" oracle.
      const { retryAfterSeconds } = await this.throttle.recordFailure(email, ctx.ip);
      await audit.record({ action: 'auth.login.failure', actorId: user?.id ?? null, targetType: 'user', targetId: user?.id ?? null, ip: ctx.ip, details: { email, reason: failure.reason } });
      if (retryAfterSeconds !== null) {
        await audit.record({ action: 'auth.lockout', actorId: null, targetType: 'user', targetId: user?.id ?? null, ip: ctx.ip, details: { email, seconds: retryAfterSeconds } });
      }
      throw new AppError(failure.code, failure.message, failure.code === 'TOTP_REQUIRED' ? { secondFactor: ['totp', 'recoveryCode'] } : undefined);
    }
    await this.throttle.recordSuccess(email, ctx.ip);
    await audit.record({ action: 'auth.login.success', actorId: user!.id, targetType: 'user', targetId: user!.id, ip: ctx.ip });
    return this.startSession(user!);
  }

  /** One use of the refresh cookie: a new access token and a rotated refresh token. */
  async refresh(token: string | undefined, ctx: RequestContext): Promise<Session> {
    const invalid = new AppError('REFRESH_INVALID', 'The session has ended; sign in again.');
    if (!token) throw invalid;
    const result = await this.refreshTokens.rotate(token);
    if (result.kind === 'invalid') throw invalid;
    if (result.kind === 'reused') {
      await this.deps.audit.record({ action: 'auth.refresh.reuse', actorId: result.userId, targetType: 'refresh_family', targetId: result.familyId, ip: ctx.ip });
      throw new AppError('REFRESH_REUSED', 'This session was signed out for safety (a refresh token was used twice); sign in again.');
    }
    const user = await this.deps.db.user.findUnique({ where: { id: result.userId } });
    if (!user || user.disabledAt) throw invalid;
    return { user: toAuthUser(user), token: this.issueToken(user), expiresIn: this.deps.jwt.ttlSeconds, refresh: result.issued };
  }

  /** Revokes the refresh token's whole family (this browser's session); unknown tokens are ignored. */
  async logout(token: string | undefined, ctx: RequestContext & { userId?: string }): Promise<void> {
    const family = token ? await this.refreshTokens.familyOf(token) : null;
    if (family) await this.refreshTokens.revokeFamily(family.familyId);
    const actorId = family?.userId ?? ctx.userId ?? null;
    // The access token the browser still holds ends now too, not when it expires.
    if (actorId) await this.bumpTokenVersion(actorId);
    if (actorId) await this.deps.audit.record({ action: 'auth.logout', actorId, targetType: 'refresh_family', targetId: family?.familyId ?? null, ip: ctx.ip });
  }

  async profile(userId: string): Promise<Profile> {
    const user = await this.deps.db.user.findUnique({ where: { id: userId } });
    if (!user) throw new AppError('UNAUTHORIZED', 'Sign in first.');
    return { ...toAuthUser(user), emailVerified: user.emailVerifiedAt !== null, twoFactorEnabled: this.twoFactor.isEnabled(user) };
  }

  async sendEmailVerification(userId: string): Promise<void> {
    const user = await this.deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (user.emailVerifiedAt) return;
    const { security } = this.deps;
    const token = await this.oneTimeTokens.issue(user.id, 'EMAIL_VERIFICATION', security.emailVerificationTtlSeconds);
    await this.deps.mailer.send({
      to: user.email,
      subject: 'Confirm your e-mail for SimGate',
      text: [
        'Confirm your e-mail address by opening this link:',
        `${security.publicUrl}/verify-email?token=${token}`,
        '',
        `The link works once and expires in ${humanDuration(security.emailVerificationTtlSeconds)}.`,
      ].join('\n'),
    });
  }

  async verifyEmail(token: string, ctx: RequestContext): Promise<void> {
    const userId = await this.oneTimeTokens.consume(token, 'EMAIL_VERIFICATION');
    if (!userId) throw invalidToken();
    await this.deps.db.user.updateMany({ where: { id: userId, emailVerifiedAt: null }, data: { emailVerifiedAt: new Date() } });
    await this.deps.audit.record({ action: 'auth.email.verified', actorId: userId, targetType: 'user', targetId: userId, ip: ctx.ip });
  }

  /** Always succeeds from the caller's point of view, so the answer does not tell which e-mails have accounts. */
  async requestPasswordReset(emailInput: string): Promise<void> {
    const email = normalizeEmail(emailInput);
    const user = await this.deps.db.user.findUnique({ where: { email } });
    if (!user) return;
    const { security } = this.deps;
    const token = await this.oneTimeTokens.issue(user.id, 'PASSWORD_RESET', security.passwordResetTtlSeconds);
    await this.deps.mailer.send({
      to: user.email,
      subject: 'Reset your SimGate password',
      text: [
        'Someone (hopefully you) asked to reset the password of your SimGate account. Choose a new one here:',
        `${security.publicUrl}/reset-password?token=${token}`,
        '',
        `The link works once and expires in ${humanDuration(security.passwordResetTtlSeconds)}. If you did not ask, ignore this e-mail.`,
      ].join('\n'),
    });
  }

  /** Sets the new password and ends every session: all refresh tokens and every access token issued so far. */
  async resetPassword(token: string, password: string, ctx: RequestContext): Promise<void> {
    const userId = await this.oneTimeTokens.consume(token, 'PASSWORD_RESET');
    if (!userId) throw invalidToken();
    const passwordHash = await hashPassword(password);
    const current = await this.deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    // Receiving the mail proves the address, too.
    // The version bump in the same write: no access token issued before the new password survives it.
    const user = await this.deps.db.user.update({ where: { id: userId }, data: { passwordHash, emailVerifiedAt: current.emailVerifiedAt ?? new Date(), tokenVersion: { increment: 1 } } });
    const revoked = await this.refreshTokens.revokeAllForUser(userId);
    await this.throttle.clearEmail(user.email, ctx.ip);
    await this.deps.audit.record({ action: 'auth.password.reset', actorId: userId, targetType: 'user', targetId: userId, ip: ctx.ip, details: { refreshTokensRevoked: revoked } });
  }

  async enrollTotp(userId: string) {
    return this.twoFactor.enroll(userId);
  }

  async confirmTotp(userId: string, code: string, ctx: RequestContext): Promise<{ recoveryCodes: string[] }> {
    const result = await this.twoFactor.confirm(userId, code);
    await this.deps.audit.record({ action: 'auth.2fa.enable', actorId: userId, targetType: 'user', targetId: userId, ip: ctx.ip });
    return result;
  }

  /** Turning 2FA off needs the password and a second factor: a stolen access token alone cannot. */
  async disableTotp(userId: string, input: { password: string } & SecondFactor, ctx: RequestContext): Promise<void> {
    const user = await this.deps.db.user.findUniqueOrThrow({ where: { id: userId } });
    if (!this.twoFactor.isEnabled(user)) throw new AppError('TOTP_NOT_ENABLED', 'Two-factor sign-in is not on.');
    if (!(await verifyPassword(input.password, user.passwordHash))) throw new AppError('INVALID_CREDENTIALS', 'Wrong password.');
    if (!(await this.twoFactor.verify(user, input))) throw new AppError('TOTP_INVALID', 'That code is not valid.');
    await this.twoFactor.disable(userId);
    await this.deps.audit.record({ action: 'auth.2fa.disable', actorId: userId, targetType: 'user', targetId: userId, ip: ctx.ip });
  }

  /** Creates the configured admin on first start; later starts leave it alone. */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.deps.db.user.findUnique({ where: { email: normalizeEmail(email) } });
    if (existing) return;
    await this.createUser({ email, password, role: 'ADMIN', verified: true }).catch((error) => {
      if (!(error instanceof AppError && error.code === 'EMAIL_TAKEN')) throw error;
    });
  }

  /**
   * The production bootstrap without a password in the environment: whoever holds ADMIN_SETUP_TOKEN
   * creates the first admin, once: as soon as any admin exists the token opens nothing. Every
   * refusal is the same answer, so it tells nothing about whether a token is configured.
   */
  async setupFirstAdmin(input: { token: string; email: string; password: string }, ctx: RequestContext): Promise<Session> {
    const refused = new AppError('TOKEN_INVALID', 'This setup token is invalid or has already been used.');
    const expected = this.deps.security.adminSetupToken;
    if (!expected || !safeEqual(sha256Hex(input.token), sha256Hex(expected))) throw refused;
    const weakness = adminPasswordWeakness(input.password);
    if (weakness) throw new AppError('VALIDATION_ERROR', `The admin password ${weakness}.`, { issues: [{ path: 'password', message: weakness }] });
    // One admin at a time: the advisory lock keeps two setup calls racing from creating two.
    const created = await this.deps.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('simgate:admin-setup'))`;
      if ((await tx.user.count({ where: { role: 'ADMIN' } })) > 0) return null;
      return tx.user.create({ data: { email: normalizeEmail(input.email), passwordHash: await hashPassword(input.password), role: 'ADMIN', emailVerifiedAt: new Date() } });
    }).catch((error: unknown) => {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new AppError('EMAIL_TAKEN', 'An account with this e-mail already exists.');
      throw error;
    });
    if (!created) throw refused;
    await this.deps.wallet.ensureWallet(created.id);
    await this.deps.audit.record({ action: 'auth.admin.setup', actorId: created.id, targetType: 'user', targetId: created.id, ip: ctx.ip });
    return this.startSession(created);
  }

  /** `ver` is the user's token version at issue: any later bump (logout, demotion, password change) voids the token. */
  issueToken(user: AuthUser & { tokenVersion: number }): string {
    const { issuer, audience, ttlSeconds } = this.deps.jwt;
    return jwt.sign({ email: user.email, role: user.role, ver: user.tokenVersion }, this.jwtKey, { algorithm: ALGORITHM, subject: user.id, issuer, audience, expiresIn: ttlSeconds });
  }

  /**
   * A one-use ticket for the SSE stream, for the signed-in user: it carries the user's current
   * token version, so a logout, demotion or password change before it is used voids it too.
   */
  async issueStreamTicket(user: AuthUser): Promise<{ ticket: string; expiresIn: number }> {
    const row = await this.deps.db.user.findUnique({ where: { id: user.id }, select: { tokenVersion: true } });
    if (!row) throw new AppError('UNAUTHORIZED', 'Sign in first.');
    return { ticket: await this.streamTickets.issue({ userId: user.id, tokenVersion: row.tokenVersion }), expiresIn: this.streamTickets.ttlSeconds };
  }

  /** The user a stream ticket was issued to, as of now; null when the ticket is unknown, used or expired, or the user's session is over. */
  async redeemStreamTicket(ticket: string): Promise<AuthUser | null> {
    const owner = await this.streamTickets.consume(ticket);
    return owner ? this.currentUser(owner.userId, owner.tokenVersion) : null;
  }

  /**
   * passport-jwt strategy: the bearer header only (a token in a URL ends up in browser history and
   * proxy logs; the SSE stream takes a one-use ticket instead). Algorithm, issuer and audience are checked; then the user as the
   * database has it now decides: a user who no longer exists or is disabled, or a token whose
   * version was bumped since (logout, demotion, password change), is refused, and the role is the
   * current one, never the token's. One primary-key read per request (well under a millisecond
   * locally), so nothing is cached.
   */
  strategy(): JwtStrategy {
    const { issuer, audience } = this.deps.jwt;
    return new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // passport-jwt's types say string | Buffer; it hands the key to jsonwebtoken as it is.
        secretOrKey: this.jwtKey as unknown as string,
        algorithms: [ALGORITHM],
        issuer,
        audience,
      },
      (payload: { sub?: string; ver?: number }, done: (error: unknown, user?: AuthUser | false) => void) => {
        if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || typeof payload.ver !== 'number') return done(null, false);
        this.currentUser(payload.sub, payload.ver).then(
          (user) => done(null, user ?? false),
          (error: unknown) => done(error),
        );
      },
    );
  }

  /** The user behind a token of version `version`, as of now; null when gone, disabled or the token is outdated. */
  async currentUser(userId: string, version: number): Promise<AuthUser | null> {
    const user = await this.deps.db.user.findUnique({ where: { id: userId }, select: { id: true, email: true, role: true, tokenVersion: true, disabledAt: true } });
    if (!user || user.disabledAt || user.tokenVersion !== version) return null;
    return toAuthUser(user);
  }

  /** Ends every access token of the user already issued (they carry the old version). */
  private async bumpTokenVersion(userId: string): Promise<void> {
    await this.deps.db.user.updateMany({ where: { id: userId }, data: { tokenVersion: { increment: 1 } } });
  }

  private async createUser(input: { email: string; password: string; role?: Role; verified?: boolean }) {
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    let user;
    try {
      user = await this.deps.db.user.create({ data: { email, passwordHash, role: input.role ?? 'CUSTOMER', emailVerifiedAt: input.verified ? new Date() : null } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new AppError('EMAIL_TAKEN', 'An account with this e-mail already exists.');
      }
      throw error;
    }
    await this.deps.wallet.ensureWallet(user.id);
    return user;
  }

  private async startSession(user: { id: string; email: string; role: Role; tokenVersion: number }): Promise<Session> {
    const refresh = await this.refreshTokens.issue(user.id);
    return { user: toAuthUser(user), token: this.issueToken(user), expiresIn: this.deps.jwt.ttlSeconds, refresh };
  }
}

function toAuthUser(user: { id: string; email: string; role: Role }): AuthUser {
  return { id: user.id, email: user.email, role: user.role };
}

function invalidToken(): AppError {
  return new AppError('TOKEN_INVALID', 'This link is invalid, already used or expired; ask for a new one.');
}

function humanDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

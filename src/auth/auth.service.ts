import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Db } from '../db/client';
import { Prisma } from '../db/client';
import { AppError } from '../lib/errors';
import type { WalletService } from '../wallet';
import { hashPassword, verifyPassword } from './passwords';

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

/** The algorithm is pinned on both sides: a token signed any other way (or `none`) is refused. */
const ALGORITHM = 'HS256';

// Comparing against a real hash keeps "unknown e-mail" as slow as "wrong password".
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export class AuthService {
  constructor(private readonly deps: { db: Db; wallet: WalletService; jwt: JwtSettings }) {}

  async register(input: { email: string; password: string; role?: Role }): Promise<{ user: AuthUser; token: string }> {
    const email = input.email.trim().toLowerCase();
    const passwordHash = await hashPassword(input.password);
    let user;
    try {
      user = await this.deps.db.user.create({ data: { email, passwordHash, role: input.role ?? 'CUSTOMER' } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new AppError('EMAIL_TAKEN', 409, 'An account with this e-mail already exists.');
      }
      throw error;
    }
    await this.deps.wallet.ensureWallet(user.id);
    const authUser = { id: user.id, email: user.email, role: user.role };
    return { user: authUser, token: this.issueToken(authUser) };
  }

  async login(input: { email: string; password: string }): Promise<{ user: AuthUser; token: string }> {
    const user = await this.deps.db.user.findUnique({ where: { email: input.email.trim().toLowerCase() } });
    const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS', 401, 'Wrong e-mail or password.');
    const authUser = { id: user.id, email: user.email, role: user.role };
    return { user: authUser, token: this.issueToken(authUser) };
  }

  /** Creates the configured admin on first start; later starts leave it alone. */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.deps.db.user.findUnique({ where: { email: email.toLowerCase() } });
    if (existing) return;
    await this.register({ email, password, role: 'ADMIN' }).catch((error) => {
      if (!(error instanceof AppError && error.code === 'EMAIL_TAKEN')) throw error;
    });
  }

  issueToken(user: AuthUser): string {
    const { secret, issuer, audience, ttlSeconds } = this.deps.jwt;
    return jwt.sign({ email: user.email, role: user.role }, secret, { algorithm: ALGORITHM, subject: user.id, issuer, audience, expiresIn: ttlSeconds });
  }

  /** passport-jwt strategy: bearer header, or `access_token` query for EventSource, which cannot set headers. */
  strategy(): JwtStrategy {
    const { secret, issuer, audience } = this.deps.jwt;
    return new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), ExtractJwt.fromUrlQueryParameter('access_token')]),
        secretOrKey: secret,
        algorithms: [ALGORITHM],
        issuer,
        audience,
      },
      (payload: { sub?: string; email?: string; role?: Role }, done: (error: unknown, user?: AuthUser | false) => void) => {
        if (!payload.sub || !payload.email || (payload.role !== 'CUSTOMER' && payload.role !== 'ADMIN')) return done(null, false);
        done(null, { id: payload.sub, email: payload.email, role: payload.role });
      },
    );
  }
}

import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client';
import type { AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { SecretBox } from '../lib/secrets';
import type { AuthUser } from './auth.service';
import { randomToken, safeEqual, sha256Hex } from './tokens';

export const API_KEY_SCOPES = ['read', 'purchase'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export const API_KEY_SIGNING_PURPOSE = 'api-key-signing';
export const MAX_API_KEYS_PER_USER = 25;

/** `sg_<12 hex prefix>_<32 random bytes, base64url>`; the prefix is public (lists, logs), the rest is the secret. */
const KEY_PATTERN = /^sg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The partner behind a request authenticated by an API key. */
export interface ApiKeyPrincipal {
  keyId: string;
  prefix: string;
  scopes: ApiKeyScope[];
  user: AuthUser;
  /** SecretBox envelope of the signing secret; decrypted only to check a signature. */
  signingSecretEnvelope: string;
}

/** 'purchase' includes 'read': a key that can buy can also look at what it bought. */
export function hasScope(granted: readonly string[], needed: ApiKeyScope): boolean {
  return granted.includes(needed) || (needed === 'read' && granted.includes('purchase'));
}

export function parseApiKey(raw: string): { prefix: string } | null {
  const match = KEY_PATTERN.exec(raw.trim());
  return match ? { prefix: match[1] } : null;
}

/**
 * Partner API keys. The full key and its request-signing secret are returned once, at creation;
 * the database keeps the key's SHA-256 (256 random bits need no slow hash) and the signing secret
 * as a SecretBox envelope (purpose 'api-key-signing'), because verifying an HMAC needs the secret.
 */
export class ApiKeyService {
  constructor(private readonly deps: { db: Db; secrets: SecretBox; audit: AuditLog; now?: () => Date }) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async create(userId: string, input: { name: string; scopes: ApiKeyScope[] }, ctx: { ip: string }): Promise<{ apiKey: ApiKeyView; key: string; signingSecret: string }> {
    const active = await this.deps.db.apiKey.count({ where: { userId, revokedAt: null } });
    if (active >= MAX_API_KEYS_PER_USER) throw new AppError('TOO_MANY_API_KEYS', `At most ${MAX_API_KEYS_PER_USER} active keys; revoke one first.`);
    const prefix = randomBytes(6).toString('hex');
    const key = `sg_${prefix}_${randomToken(32)}`;
    const signingSecret = `sgs_${randomToken(32)}`;
    const scopes = [...new Set(input.scopes)].sort();
    const row = await this.deps.db.apiKey.create({
      data: { userId, name: input.name, prefix, keyHash: sha256Hex(key), scopes, signingSecret: this.deps.secrets.encrypt(signingSecret, API_KEY_SIGNING_PURPOSE) },
    });
    await this.deps.audit.record({ action: 'apikey.create', actorId: userId, targetType: 'api_key', targetId: row.id, ip: ctx.ip, details: { prefix, name: input.name, scopes } });
    return { apiKey: toView(row), key, signingSecret };
  }

  async list(userId: string): Promise<ApiKeyView[]> {
    const rows = await this.deps.db.apiKey.findMany({ where: { userId }, orderBy: { createdAt: 'desc' } });
    return rows.map(toView);
  }

  /** Someone else's key answers exactly like a missing one. Revoking twice is harmless. */
  async revoke(userId: string, keyId: string, ctx: { ip: string }): Promise<ApiKeyView> {
    const row = await this.deps.db.apiKey.findFirst({ where: { id: keyId, userId } });
    if (!row) throw new AppError('API_KEY_NOT_FOUND', 'No such API key.');
    if (row.revokedAt) return toView(row);
    const revoked = await this.deps.db.apiKey.update({ where: { id: row.id }, data: { revokedAt: this.now() } });
    await this.deps.audit.record({ action: 'apikey.revoke', actorId: userId, targetType: 'api_key', targetId: row.id, ip: ctx.ip, details: { prefix: row.prefix } });
    return toView(revoked);
  }

  /** The key's owner and scopes, or null for a malformed, unknown or revoked key, or a disabled owner. Records lastUsedAt (at most once a minute). */
  async authenticate(raw: string): Promise<ApiKeyPrincipal | null> {
    const parsed = parseApiKey(raw);
    if (!parsed) return null;
    const row = await this.deps.db.apiKey.findUnique({ where: { prefix: parsed.prefix }, include: { user: { select: { id: true, email: true, role: true, disabledAt: true } } } });
    if (!row || !safeEqual(row.keyHash, sha256Hex(raw.trim())) || row.revokedAt || row.user.disabledAt) return null;
    const now = this.now();
    await this.deps.db.apiKey.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - 60_000) } }] },
      data: { lastUsedAt: now },
    });
    return {
      keyId: row.id,
      prefix: row.prefix,
      scopes: row.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
      user: { id: row.user.id, email: row.user.email, role: row.user.role },
      signingSecretEnvelope: row.signingSecret,
    };
  }

  signingSecret(principal: ApiKeyPrincipal): string {
    return this.deps.secrets.decrypt(principal.signingSecretEnvelope, API_KEY_SIGNING_PURPOSE);
  }
}

function toView(row: { id: string; name: string; prefix: string; scopes: string[]; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

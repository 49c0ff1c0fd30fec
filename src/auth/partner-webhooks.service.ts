import { isIP } from 'node:net';
import type { Db } from '../db/client';
import type { AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { SecretBox } from '../lib/secrets';
import { randomToken } from './tokens';

export const PARTNER_WEBHOOK_PURPOSE = 'partner-webhook';

export interface PartnerWebhookView {
  url: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * Where a partner wants activation events delivered. The signing secret is generated here, shown
 * once (on creation, or when rotated), and stored as a SecretBox envelope (purpose 'partner-webhook').
 */
export class PartnerWebhookService {
  constructor(private readonly deps: { db: Db; secrets: SecretBox; audit: AuditLog; production: boolean }) {}

  async get(userId: string): Promise<PartnerWebhookView | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId } });
    return row ? toView(row) : null;
  }

  /** The secret the deliveries are signed with (for the delivery code). */
  async secretFor(userId: string): Promise<string | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId }, select: { secret: true } });
    return row ? this.deps.secrets.decrypt(row.secret, PARTNER_WEBHOOK_PURPOSE) : null;
  }

  async put(userId: string, input: { url: string; enabled: boolean; rotateSecret: boolean }, ctx: { ip: string; apiKeyId?: string }): Promise<{ webhook: PartnerWebhookView; secret: string | null }> {
    this.assertDeliverable(input.url);
    const existing = await this.deps.db.partnerWebhook.findUnique({ where: { userId } });
    const secret = !existing || input.rotateSecret ? `whsec_${randomToken(32)}` : null;
    const envelope = secret ? this.deps.secrets.encrypt(secret, PARTNER_WEBHOOK_PURPOSE) : undefined;
    const row = existing
      ? await this.deps.db.partnerWebhook.update({ where: { userId }, data: { url: input.url, enabled: input.enabled, ...(envelope ? { secret: envelope } : {}) } })
      : await this.deps.db.partnerWebhook.create({ data: { userId, url: input.url, enabled: input.enabled, secret: envelope! } });
    await this.deps.audit.record({
      action: 'webhook.update',
      actorId: userId,
      targetType: 'partner_webhook',
      targetId: row.id,
      ip: ctx.ip,
      details: { url: input.url, enabled: input.enabled, secretRotated: secret !== null, apiKeyId: ctx.apiKeyId ?? null },
    });
    return { webhook: toView(row), secret };
  }

  /** https only in production, and never to loopback or private addresses written as IP literals. */
  private assertDeliverable(raw: string): void {
    const url = new URL(raw);
    if (url.username || url.password) throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must not contain credentials.');
    if (!this.deps.production) return;
    if (url.protocol !== 'https:') throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must use https.');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && isPrivateAddress(host))) {
      throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must point to a public host.');
    }
  }
}

function isPrivateAddress(ip: string): boolean {
  if (ip.includes(':')) return ip === '::1' || /^f[cd]/i.test(ip) || /^fe80/i.test(ip) || ip.startsWith('::ffff:');
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

function toView(row: { url: string; enabled: boolean; createdAt: Date; updatedAt: Date }): PartnerWebhookView {
  return { url: row.url, enabled: row.enabled, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

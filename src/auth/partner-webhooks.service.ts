import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
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
  constructor(private readonly deps: { db: Db; secrets: SecretBox; audit: AuditLog; production: boolean; resolve?: (host: string) => Promise<string[]> }) {}

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
    await this.assertDeliverable(input.url);
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

  /**
   * Where a delivery may go now: the partner's URL, re-checked at delivery time (DNS answers change
   * after the URL was saved: rebinding), or null when it is disabled or no longer deliverable.
   */
  async deliveryTarget(userId: string): Promise<{ url: string; secret: string } | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId } });
    if (!row || !row.enabled) return null;
    try {
      await this.assertDeliverable(row.url);
    } catch (error) {
      if (error instanceof AppError) return null;
      throw error;
    }
    return { url: row.url, secret: this.deps.secrets.decrypt(row.secret, PARTNER_WEBHOOK_PURPOSE) };
  }

  /**
   * In production: https, and every address the host resolves to is public unicast — not private,
   * loopback, link-local (169.254.169.254, the cloud metadata service), unique-local, CGNAT
   * (100.100.100.200, another metadata address), unspecified or reserved. One internal address
   * among public ones is enough to refuse: the resolver may hand out either.
   */
  private async assertDeliverable(raw: string): Promise<void> {
    const url = new URL(raw);
    if (url.username || url.password) throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must not contain credentials.');
    if (!this.deps.production) return;
    if (url.protocol !== 'https:') throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must use https.');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const notPublic = new AppError('WEBHOOK_URL_INVALID', 'The webhook URL must point to a public host.');
    if (host === 'localhost' || host.endsWith('.localhost')) throw notPublic;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await (this.deps.resolve ?? resolveAll)(host);
    } catch {
      throw new AppError('WEBHOOK_URL_INVALID', 'The webhook URL\'s host does not resolve.');
    }
    if (addresses.length === 0 || addresses.some((address) => !isPublicAddress(address))) throw notPublic;
  }
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'unicast';
  } catch {
    return false;
  }
}

function toView(row: { url: string; enabled: boolean; createdAt: Date; updatedAt: Date }): PartnerWebhookView {
  return { url: row.url, enabled: row.enabled, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

import { lookup as lookupCallback, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Db } from '../db/client';
import type { AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { SecretBox } from '../lib/secrets';
import type { Mailer } from '../notify/mail';
import { randomToken } from './tokens';

export const PARTNER_WEBHOOK_PURPOSE = 'partner-webhook';

export type WebhookFormat = 'SIMGATE' | 'SMS_ACTIVATE';
export const WEBHOOK_FORMATS = ['SIMGATE', 'SMS_ACTIVATE'] as const satisfies readonly WebhookFormat[];

export interface PartnerWebhookView {
  url: string;
  enabled: boolean;
  /** SIMGATE: every event, signed JSON; SMS_ACTIVATE: sms.received only, as SMS-Activate's activation webhook. */
  format: WebhookFormat;
  /** balance.low after a capture that leaves less than this available; null: never. */
  balanceLowThresholdMicros: string | null;
  /** Set when SimGate switched the endpoint off after a day of failed deliveries; saving it enabled clears it. */
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a delivery may do now (activities/webhooks.ts). */
export type DeliveryCheck =
  | { state: 'off' }
  | { state: 'refused'; reason: string }
  | { state: 'ok'; url: string; secret: string; format: WebhookFormat; publicOnly: boolean };

export interface PartnerWebhookInput {
  url: string;
  enabled: boolean;
  rotateSecret: boolean;
  format?: WebhookFormat;
  /** Absent: unchanged; null: no balance.low events. */
  balanceLowThresholdMicros?: bigint | null;
}

/**
 * Where a partner wants activation events delivered. The signing secret is generated here, shown
 * once (on creation, or when rotated), and stored as a SecretBox envelope (purpose 'partner-webhook').
 */
export class PartnerWebhookService {
  constructor(private readonly deps: { db: Db; secrets: SecretBox; audit: AuditLog; production: boolean; resolve?: (host: string) => Promise<string[]>; mailer?: Mailer }) {}

  async get(userId: string): Promise<PartnerWebhookView | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId } });
    return row ? toView(row) : null;
  }

  /** The secret the deliveries are signed with (for the delivery code). */
  async secretFor(userId: string): Promise<string | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId }, select: { secret: true } });
    return row ? this.deps.secrets.decrypt(row.secret, PARTNER_WEBHOOK_PURPOSE) : null;
  }

  async put(userId: string, input: PartnerWebhookInput, ctx: { ip: string; apiKeyId?: string }): Promise<{ webhook: PartnerWebhookView; secret: string | null }> {
    await this.assertDeliverable(input.url);
    const existing = await this.deps.db.partnerWebhook.findUnique({ where: { userId } });
    const secret = !existing || input.rotateSecret ? `whsec_${randomToken(32)}` : null;
    const envelope = secret ? this.deps.secrets.encrypt(secret, PARTNER_WEBHOOK_PURPOSE) : undefined;
    const settings = {
      url: input.url,
      enabled: input.enabled,
      ...(input.format ? { format: input.format } : {}),
      ...(input.balanceLowThresholdMicros !== undefined ? { balanceLowThresholdMicros: input.balanceLowThresholdMicros } : {}),
      // Saving it enabled is the partner's answer to an automatic disable.
      ...(input.enabled ? { disabledAt: null, disabledReason: null } : {}),
    };
    const row = existing
      ? await this.deps.db.partnerWebhook.update({ where: { userId }, data: { ...settings, ...(envelope ? { secret: envelope } : {}) } })
      : await this.deps.db.partnerWebhook.create({ data: { userId, ...settings, secret: envelope! } });
    await this.deps.audit.record({
      action: 'webhook.update',
      actorId: userId,
      targetType: 'partner_webhook',
      targetId: row.id,
      ip: ctx.ip,
      details: { url: input.url, enabled: input.enabled, format: row.format, secretRotated: secret !== null, apiKeyId: ctx.apiKeyId ?? null },
    });
    return { webhook: toView(row), secret };
  }

  /**
   * Where a delivery may go now: the partner's URL, re-checked at delivery time (DNS answers change
   * after the URL was saved: rebinding), or null when it is disabled or no longer deliverable.
   */
  async deliveryTarget(userId: string): Promise<{ url: string; secret: string } | null> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { userId }, select: { id: true } });
    const check = row ? await this.deliveryCheck(row.id) : null;
    return check?.state === 'ok' ? { url: check.url, secret: check.secret } : null;
  }

  /** deliveryTarget by endpoint id, saying why not: switched off, or refused by the address check now. */
  async deliveryCheck(webhookId: string): Promise<DeliveryCheck> {
    const row = await this.deps.db.partnerWebhook.findUnique({ where: { id: webhookId } });
    if (!row || !row.enabled) return { state: 'off' };
    try {
      await this.assertDeliverable(row.url);
    } catch (error) {
      if (error instanceof AppError) return { state: 'refused', reason: error.message };
      throw error;
    }
    return { state: 'ok', url: row.url, secret: this.deps.secrets.decrypt(row.secret, PARTNER_WEBHOOK_PURPOSE), format: row.format, publicOnly: this.deps.production };
  }

  /**
   * Switches an endpoint off after a day of failed deliveries, once (a second call changes
   * nothing), and tells the partner by mail; the webhook settings show it until saved enabled.
   */
  async disableForFailures(webhookId: string, failingSince: Date): Promise<boolean> {
    const reason = `Every delivery failed since ${failingSince.toISOString()}: the endpoint was disabled.`;
    const { count } = await this.deps.db.partnerWebhook.updateMany({ where: { id: webhookId, enabled: true }, data: { enabled: false, disabledAt: new Date(), disabledReason: reason } });
    if (count === 0) return false;
    const row = await this.deps.db.partnerWebhook.findUniqueOrThrow({ where: { id: webhookId }, include: { user: { select: { email: true } } } });
    await this.deps.audit.record({ action: 'webhook.disabled', actorId: null, targetType: 'partner_webhook', targetId: webhookId, ip: null, details: { url: row.url, failingSince: failingSince.toISOString() } });
    await this.deps.mailer?.send({
      to: row.user.email,
      subject: 'SimGate: your webhook endpoint was disabled',
      text:
        `Deliveries to ${row.url} have failed since ${failingSince.toISOString()}, so SimGate stopped sending events to it.\n` +
        'Fix the endpoint, save the webhook again with enabled: true (PUT /api/v1/webhook or the API keys page), ' +
        'and replay the failed deliveries from the delivery log.',
    });
    return true;
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

/**
 * dns.lookup for the delivery's own connection, refusing anything but public unicast: the check
 * before the request resolves once, the socket resolves again, and a rebinding name could answer
 * differently the second time. Pinning the check to the connection's lookup closes that gap.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  lookupCallback(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    if (list.length === 0 || list.some((entry) => !isPublicAddress(entry.address))) {
      return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'EADDRNOTPUBLIC' }), []);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}

function toView(row: { url: string; enabled: boolean; format: WebhookFormat; balanceLowThresholdMicros: bigint | null; disabledAt: Date | null; disabledReason: string | null; createdAt: Date; updatedAt: Date }): PartnerWebhookView {
  return {
    url: row.url,
    enabled: row.enabled,
    format: row.format,
    balanceLowThresholdMicros: row.balanceLowThresholdMicros === null ? null : row.balanceLowThresholdMicros.toString(),
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

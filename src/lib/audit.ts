import type { Db } from '../db/client';

/**
 * Security-relevant and admin actions. The names are stable: dashboards and alerts match on them,
 * and GET /api/admin/audit filters by them.
 */
export const AUDIT_ACTIONS = [
  'auth.login.success',
  'auth.login.failure',
  'auth.lockout',
  'auth.refresh.reuse',
  'auth.logout',
  'auth.password.reset',
  'auth.email.verified',
  'auth.2fa.enable',
  'auth.2fa.disable',
  'apikey.create',
  'apikey.revoke',
  'webhook.update',
  'webhook.disabled',
  'webhook.replay',
  'admin.wallet.credit',
  'admin.activation.cancel',
  'admin.provider.create',
  'admin.provider.update',
  'admin.provider.markup',
  'admin.provider.sync',
  'admin.provider.rotate-keys',
  'admin.incident.resolve',
  'auth.admin.setup',
  'admin.user.update',
  'admin.provider.webhook-secret',
  'admin.activation.terminate',
  'admin.activation.retry-step',
  'admin.wallet.debit',
  'admin.provider.test-purchase',
  /** One SMS-Activate protocol call (/stubs/handler_api.php): the action, the reply token, the key's prefix. */
  'partner.handler-api',
  'admin.payment.refund',
  'admin.coupon.create',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who does an audited action: the signed-in user and where the request came from. */
export interface Actor {
  id: string;
  ip: string | null;
}

export interface AuditEntryInput {
  action: AuditAction;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  /** Never secrets, tokens or passwords: identifiers and reasons only. */
  details?: Record<string, unknown>;
}

export interface AuditEntryView {
  id: string;
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: unknown;
  createdAt: string;
}

/** Append-only audit trail in `audit_log`. Writes are awaited: an action that cannot be audited fails. */
export class AuditLog {
  constructor(private readonly deps: { db: Db }) {}

  async record(entry: AuditEntryInput): Promise<void> {
    await this.deps.db.auditLog.create({
      data: {
        action: entry.action,
        actorId: entry.actorId ?? null,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        ip: entry.ip ?? null,
        details: (entry.details ?? {}) as object,
      },
    });
  }

  /** Newest first; `before` pages by id. */
  async list(filter: { action?: string; actorId?: string; targetId?: string; before?: bigint; limit: number }): Promise<AuditEntryView[]> {
    const rows = await this.deps.db.auditLog.findMany({
      where: {
        action: filter.action,
        actorId: filter.actorId,
        targetId: filter.targetId,
        ...(filter.before !== undefined ? { id: { lt: filter.before } } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit,
    });
    return rows.map((row) => ({
      id: row.id.toString(),
      action: row.action,
      actorId: row.actorId,
      targetType: row.targetType,
      targetId: row.targetId,
      ip: row.ip,
      details: row.details,
      createdAt: row.createdAt.toISOString(),
    }));
  }
}

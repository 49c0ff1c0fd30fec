import type { Db } from '../db/client';
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import { cleanText } from '../lib/text';

export interface LateSms {
  code: string | null;
  text: string;
  receivedAt: string;
}

export interface IncidentView {
  id: string;
  kind: string;
  providerId: string;
  upstreamId: string | null;
  activationId: string | null;
  details: unknown;
  createdAt: string;
  resolvedAt: string | null;
}

/**
 * Upstream incidents: what the provider did that our records cannot settle on their own (an SMS
 * for an activation that had already ended, …). Recorded by the SMS intake, read and resolved by
 * admins at /api/admin/incidents.
 */
export class IncidentService {
  constructor(private readonly deps: { db: Db; audit: AuditLog }) {}

  /**
   * One LATE_SMS incident per upstream activation, each new message appended to its details; the
   * same message reported again (a provider retrying its webhook, the next inbox poll) is not.
   */
  async recordLateSms(input: { providerId: string; upstreamId: string; activationId: string | null; sms: LateSms }): Promise<void> {
    // Cleaned again whatever the caller did: jsonb refuses U+0000 too, and this runs inside the inbox poller's retries.
    const sms = { ...input.sms, code: input.sms.code === null ? null : cleanText(input.sms.code), text: cleanText(input.sms.text) };
    const message = JSON.stringify([sms]);
    const sameMessage = JSON.stringify([{ code: sms.code, text: sms.text }]);
    await this.deps.db.$executeRaw`
      INSERT INTO upstream_incidents (kind, provider_id, upstream_id, activation_id, details)
      VALUES ('LATE_SMS', ${input.providerId}, ${input.upstreamId}, ${input.activationId}, jsonb_build_object('messages', ${message}::jsonb))
      ON CONFLICT (kind, provider_id, upstream_id) DO UPDATE
        SET details = jsonb_set(upstream_incidents.details, '{messages}', COALESCE(upstream_incidents.details->'messages', '[]'::jsonb) || ${message}::jsonb)
        WHERE NOT COALESCE(upstream_incidents.details->'messages', '[]'::jsonb) @> ${sameMessage}::jsonb`;
  }

  /** Opens an incident of a kind recorded once per number (reconciliation's findings, refused data); again is a no-op. */
  async open(kind: 'DATA_REJECTED' | 'REFUND_MISSING' | 'UPSTREAM_MISSING' | 'PAYMENT_SHORTFALL', input: { providerId: string; upstreamId: string; activationId: string | null; details?: Record<string, unknown> }): Promise<void> {
    await this.deps.db.upstreamIncident.upsert({
      where: { kind_providerId_upstreamId: { kind, providerId: input.providerId, upstreamId: input.upstreamId } },
      create: { kind, providerId: input.providerId, upstreamId: input.upstreamId, activationId: input.activationId, details: (input.details ?? {}) as object },
      update: {},
    });
  }

  async list(filter: { open: boolean; limit: number }): Promise<IncidentView[]> {
    const rows = await this.deps.db.upstreamIncident.findMany({
      where: filter.open ? { resolvedAt: null } : undefined,
      orderBy: { id: 'desc' },
      take: filter.limit,
    });
    return rows.map((r) => ({ ...r, id: r.id.toString(), createdAt: r.createdAt.toISOString(), resolvedAt: r.resolvedAt?.toISOString() ?? null }));
  }

  async resolve(id: bigint, actor: Actor): Promise<void> {
    const updated = await this.deps.db.upstreamIncident.updateMany({ where: { id, resolvedAt: null }, data: { resolvedAt: new Date() } });
    if (updated.count === 0) throw new AppError('INCIDENT_NOT_FOUND', 'No open incident with this id.');
    await this.deps.audit.record({ action: 'admin.incident.resolve', actorId: actor.id, targetType: 'incident', targetId: id.toString(), ip: actor.ip });
  }
}

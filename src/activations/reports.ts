import { Prisma, type Db } from '../db/client';
import type { ProviderHealth } from '../providers/health';

/**
 * The figures of the admin panel's Money and Dashboard pages, computed in SQL from the books
 * (activations, ledger, incidents) — never from counters that could drift from them. Money stays
 * bigint micro-dollars to the edge, where it becomes decimal strings.
 */

export type MoneyDimension = 'provider' | 'service' | 'country';
export type TimeBucket = 'hour' | 'day';

export interface MoneyRow {
  bucket: string;
  key: string;
  /** Numbers bought upstream (an upstream id was recorded). */
  bought: number;
  /** Sold: an SMS arrived and the customer paid. */
  sold: number;
  revenueMicros: bigint;
  /** Upstream cost of every number bought … */
  costMicros: bigint;
  /** … of which the provider gave back on cancel. */
  recoveredMicros: bigint;
  /** revenue − (cost − recovered). */
  marginMicros: bigint;
}

export interface ReconciliationReport {
  /** Refunded to the customer, but the provider's cancel was never confirmed (no cost recovered) or it still lists the number open. */
  refundsNotMatched: { activationId: string; providerId: string | null; upstreamId: string | null; status: string; endedAt: string | null; costMicros: bigint | null; incident: boolean }[];
  lateSms: { count: number; open: number };
  orphans: { count: number; open: number; recoveredMicros: bigint; lossMicros: bigint };
  /** Upstream cost recovered on cancels (activations) and orphan cancels, in the period. */
  costRecoveredMicros: bigint;
}

export interface DashboardPoint {
  minute: string;
  purchases: number;
  sms: number;
  refunds: number;
  failed: number;
}

export interface Dashboard {
  activeActivations: number;
  windowMinutes: number;
  purchasesPerMinute: number;
  /** First SMS ÷ numbers bought, of the numbers bought in the window that have ended or got an SMS; null without any. */
  deliveryRate: number | null;
  smsLatencyMs: { p50: number | null; p95: number | null; samples: number };
  refunds: number;
  failedPurchases: number;
  openIncidents: number;
  series: DashboardPoint[];
  providers: { providerId: string; breaker: string | null; errorRate: number | null; callCount: number; p50LatencyMs: number | null }[];
}

const DIMENSION_COLUMN: Record<MoneyDimension, Prisma.Sql> = {
  provider: Prisma.sql`COALESCE(a.provider_id, '—')`,
  service: Prisma.sql`a.service_code`,
  country: Prisma.sql`a.country_iso`,
};

export class AdminReports {
  constructor(private readonly deps: { db: Db; health?: ProviderHealth }) {}

  async money(filter: { from: Date; to: Date; by: MoneyDimension; bucket: TimeBucket }): Promise<{ rows: MoneyRow[]; totals: Omit<MoneyRow, 'bucket' | 'key'> }> {
    const dim = DIMENSION_COLUMN[filter.by];
    const bucket = filter.bucket === 'hour' ? 'hour' : 'day';
    const rows = await this.deps.db.$queryRaw<{ bucket: Date; key: string; bought: bigint; sold: bigint; revenue: bigint; cost: bigint; recovered: bigint }[]>`
      SELECT date_trunc(${bucket}, a.created_at) AS bucket, ${dim} AS key,
             count(*) FILTER (WHERE a.upstream_id IS NOT NULL) AS bought,
             count(*) FILTER (WHERE a.status = 'COMPLETED') AS sold,
             COALESCE(sum(a.price_micros) FILTER (WHERE a.status = 'COMPLETED'), 0)::bigint AS revenue,
             COALESCE(sum(a.cost_micros) FILTER (WHERE a.upstream_id IS NOT NULL), 0)::bigint AS cost,
             COALESCE(sum(a.cost_recovered_micros), 0)::bigint AS recovered
      FROM activations a
      WHERE a.created_at >= ${filter.from} AND a.created_at < ${filter.to}
      GROUP BY 1, 2
      ORDER BY 1, 2`;
    const out = rows.map((r) => ({
      bucket: r.bucket.toISOString(),
      key: r.key,
      bought: Number(r.bought),
      sold: Number(r.sold),
      revenueMicros: r.revenue,
      costMicros: r.cost,
      recoveredMicros: r.recovered,
      marginMicros: r.revenue - (r.cost - r.recovered),
    }));
    const totals = out.reduce(
      (t, r) => ({
        bought: t.bought + r.bought,
        sold: t.sold + r.sold,
        revenueMicros: t.revenueMicros + r.revenueMicros,
        costMicros: t.costMicros + r.costMicros,
        recoveredMicros: t.recoveredMicros + r.recoveredMicros,
        marginMicros: t.marginMicros + r.marginMicros,
      }),
      { bought: 0, sold: 0, revenueMicros: 0n, costMicros: 0n, recoveredMicros: 0n, marginMicros: 0n },
    );
    return { rows: out, totals };
  }

  async reconciliation(filter: { from: Date; to: Date; limit: number }): Promise<ReconciliationReport> {
    const { db } = this.deps;
    // Refunded (cancelled or expired with a number bought) without the provider's cancel confirmed,
    // or named by reconciliation's REFUND_MISSING (the provider still lists it open).
    const unmatched = await db.$queryRaw<{ id: string; provider_id: string | null; upstream_id: string | null; status: string; ended_at: Date | null; cost_micros: bigint | null; incident: boolean }[]>`
      SELECT a.id, a.provider_id, a.upstream_id, a.status::text AS status, a.ended_at, a.cost_micros,
             EXISTS (SELECT 1 FROM upstream_incidents i WHERE i.kind = 'REFUND_MISSING' AND i.activation_id = a.id) AS incident
      FROM activations a
      WHERE a.status IN ('CANCELLED', 'EXPIRED') AND a.upstream_id IS NOT NULL
        AND a.created_at >= ${filter.from} AND a.created_at < ${filter.to}
        AND (a.cost_recovered_micros IS NULL
             OR EXISTS (SELECT 1 FROM upstream_incidents i WHERE i.kind = 'REFUND_MISSING' AND i.activation_id = a.id))
      ORDER BY a.created_at DESC
      LIMIT ${filter.limit}`;
    const [incidents] = await db.$queryRaw<{ late: bigint; late_open: bigint; orphans: bigint; orphans_open: bigint; orphan_recovered: bigint; orphan_loss: bigint }[]>`
      SELECT count(*) FILTER (WHERE kind = 'LATE_SMS') AS late,
             count(*) FILTER (WHERE kind = 'LATE_SMS' AND resolved_at IS NULL) AS late_open,
             count(*) FILTER (WHERE kind = 'ORPHAN_NUMBER') AS orphans,
             count(*) FILTER (WHERE kind = 'ORPHAN_NUMBER' AND resolved_at IS NULL) AS orphans_open,
             COALESCE(sum((details->>'recoveredMicros')::bigint) FILTER (WHERE kind = 'ORPHAN_NUMBER' AND details->>'recoveredMicros' ~ '^[0-9]+$'), 0)::bigint AS orphan_recovered,
             COALESCE(sum((details->>'lossMicros')::bigint) FILTER (WHERE kind = 'ORPHAN_NUMBER' AND details->>'lossMicros' ~ '^[0-9]+$'), 0)::bigint AS orphan_loss
      FROM upstream_incidents
      WHERE created_at >= ${filter.from} AND created_at < ${filter.to}`;
    const recovered = await db.activation.aggregate({ _sum: { costRecoveredMicros: true }, where: { createdAt: { gte: filter.from, lt: filter.to } } });
    return {
      refundsNotMatched: unmatched.map((r) => ({ activationId: r.id, providerId: r.provider_id, upstreamId: r.upstream_id, status: r.status, endedAt: r.ended_at?.toISOString() ?? null, costMicros: r.cost_micros, incident: r.incident })),
      lateSms: { count: Number(incidents.late), open: Number(incidents.late_open) },
      orphans: { count: Number(incidents.orphans), open: Number(incidents.orphans_open), recoveredMicros: incidents.orphan_recovered, lossMicros: incidents.orphan_loss },
      costRecoveredMicros: (recovered._sum.costRecoveredMicros ?? 0n) + incidents.orphan_recovered,
    };
  }

  async dashboard(windowMinutes: number): Promise<Dashboard> {
    const { db } = this.deps;
    const since = new Date(Date.now() - windowMinutes * 60_000);
    const series = await db.$queryRaw<{ minute: Date; purchases: bigint; sms: bigint; refunds: bigint; failed: bigint }[]>`
      WITH minutes AS (
        SELECT generate_series(date_trunc('minute', ${since}::timestamptz), date_trunc('minute', now()), interval '1 minute') AS minute
      )
      SELECT m.minute,
             (SELECT count(*) FROM activations a WHERE a.activated_at >= m.minute AND a.activated_at < m.minute + interval '1 minute') AS purchases,
             (SELECT count(*) FROM sms_messages s WHERE s.seq = 1 AND s.received_at >= m.minute AND s.received_at < m.minute + interval '1 minute') AS sms,
             (SELECT count(*) FROM activations a WHERE a.status IN ('CANCELLED', 'EXPIRED') AND a.ended_at >= m.minute AND a.ended_at < m.minute + interval '1 minute') AS refunds,
             (SELECT count(*) FROM activations a WHERE a.status = 'FAILED' AND a.ended_at >= m.minute AND a.ended_at < m.minute + interval '1 minute') AS failed
      FROM minutes m
      ORDER BY m.minute`;
    const [latency] = await db.$queryRaw<{ p50: number | null; p95: number | null; samples: bigint }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95, count(*) AS samples
      FROM (SELECT EXTRACT(EPOCH FROM (s.received_at - a.activated_at)) * 1000 AS ms
            FROM sms_messages s JOIN activations a ON a.id = s.activation_id
            WHERE s.seq = 1 AND a.activated_at >= ${since} AND s.received_at >= a.activated_at) t`;
    // Delivery counts only numbers whose outcome is known: an SMS came, or the activation ended.
    const [delivery] = await db.$queryRaw<{ decided: bigint; delivered: bigint }[]>`
      SELECT count(*) AS decided, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sms_messages s WHERE s.activation_id = a.id)) AS delivered
      FROM activations a
      WHERE a.activated_at >= ${since} AND a.upstream_id IS NOT NULL
        AND (a.ended_at IS NOT NULL OR EXISTS (SELECT 1 FROM sms_messages s WHERE s.activation_id = a.id))`;
    const active = await db.activation.count({ where: { status: { in: ['RESERVED', 'ACTIVE'] } } });
    const openIncidents = await db.upstreamIncident.count({ where: { resolvedAt: null } });
    const providers = await db.provider.findMany({ where: { enabled: true }, select: { id: true }, orderBy: { id: 'asc' } });
    const health = await Promise.all(
      providers.map(async ({ id }) => {
        const snapshot = await this.deps.health?.snapshot(id, '-', '--').catch(() => null);
        return { providerId: id, breaker: snapshot?.breaker ?? null, errorRate: snapshot ? snapshot.errorRate : null, callCount: snapshot?.callCount ?? 0, p50LatencyMs: snapshot?.p50LatencyMs ?? null };
      }),
    );
    const points = series.map((r) => ({ minute: r.minute.toISOString(), purchases: Number(r.purchases), sms: Number(r.sms), refunds: Number(r.refunds), failed: Number(r.failed) }));
    const purchases = points.reduce((n, p) => n + p.purchases, 0);
    const decided = Number(delivery.decided);
    return {
      activeActivations: active,
      windowMinutes,
      purchasesPerMinute: Math.round((purchases / windowMinutes) * 100) / 100,
      deliveryRate: decided === 0 ? null : Number(delivery.delivered) / decided,
      smsLatencyMs: { p50: latency.p50 === null ? null : Math.round(latency.p50), p95: latency.p95 === null ? null : Math.round(latency.p95), samples: Number(latency.samples) },
      refunds: points.reduce((n, p) => n + p.refunds, 0),
      failedPurchases: points.reduce((n, p) => n + p.failed, 0),
      openIncidents,
      series: points,
      providers: health,
    };
  }

  /** Per provider over the last `hours`: numbers bought, SMS delivered (a first SMS), ended without one. */
  async deliveryByProvider(hours: number): Promise<Map<string, { bought: number; delivered: number; rate: number | null }>> {
    const since = new Date(Date.now() - hours * 3_600_000);
    const rows = await this.deps.db.$queryRaw<{ provider_id: string; bought: bigint; delivered: bigint; decided: bigint }[]>`
      SELECT a.provider_id, count(*) AS bought,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sms_messages s WHERE s.activation_id = a.id)) AS delivered,
             count(*) FILTER (WHERE a.ended_at IS NOT NULL OR EXISTS (SELECT 1 FROM sms_messages s WHERE s.activation_id = a.id)) AS decided
      FROM activations a
      WHERE a.provider_id IS NOT NULL AND a.upstream_id IS NOT NULL AND a.activated_at >= ${since}
      GROUP BY a.provider_id`;
    return new Map(rows.map((r) => [r.provider_id, { bought: Number(r.bought), delivered: Number(r.delivered), rate: Number(r.decided) === 0 ? null : Number(r.delivered) / Number(r.decided) }]));
  }
}

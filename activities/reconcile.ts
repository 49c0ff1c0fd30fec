import type { Db } from '../src/db/client';
import { convertMicros } from '../src/lib/money';
import type { IncidentService } from '../src/providers/incidents.service';
import type { ProviderRegistry } from '../src/providers/registry';
import { ProviderError, type ProviderAdapter, type UpstreamSale } from '../src/providers/types';
import type { OrphanSuspects, ReconcileResult } from '../workflows/contracts';
import { isUnknownProvider } from './catalog';
import { createUpstreamClaims } from './claims';

/** What reconciliation did with an orphan number, as its incident records it. */
type OrphanOutcome = 'CANCELLED' | 'SMS_RECEIVED' | 'CANCEL_PENDING';

/**
 * Reconciliation with one provider (DESIGN.md "Reconciliation"), run by its inbox workflow: every
 * number the provider lists as open that no activation owns — a buy whose reply was lost, a late
 * answer after our timeout — is, once it has stayed unowned for the grace period (a buy in flight
 * claims its number within moments), claimed as an ORPHAN_NUMBER incident and cancelled at the
 * provider, so its cost comes back. One that already received an SMS cannot be cancelled: it is
 * finished and its cost recorded as a loss. Amounts are in USD micros, as everywhere. The same
 * look finds what our records say and the provider does not: a refund that never came (a number
 * we cancelled still open) and an activation we hold ACTIVE that the provider no longer lists.
 */
export function createReconcileActivities(deps: { db: Db; providers: ProviderRegistry; incidents: IncidentService; now?: () => number }) {
  const { incidents } = deps;
  const now = deps.now ?? Date.now;
  const claims = createUpstreamClaims(deps.db);

  async function settle(adapter: ProviderAdapter, sale: UpstreamSale): Promise<OrphanOutcome> {
    if (sale.codes.length === 0) {
      try {
        await adapter.cancel(sale.upstreamId);
        return 'CANCELLED';
      } catch (error) {
        if (!(error instanceof ProviderError) || error.kind !== 'HAS_SMS') {
          // Too early for the provider, or it failed: the next pass tries again.
          return 'CANCEL_PENDING';
        }
      }
    }
    // The provider keeps the cost of a number that received an SMS; finishing it stops the clock.
    await adapter.finish(sale.upstreamId).catch(() => undefined);
    return 'SMS_RECEIVED';
  }

  /**
   * Numbers we cancelled — the activation ended CANCELLED or EXPIRED and counted their cost as
   * recovered — that the provider still lists open past the grace period: the refund never came.
   * Kept as REFUND_MISSING incidents (once per number) with the amount, for admins to chase.
   */
  async function recordRefundsMissing(providerId: string, sales: UpstreamSale[], owners: Map<string, string | null>, endedBefore: Date): Promise<void> {
    const ownerIds = sales.flatMap((s) => (owners.get(s.upstreamId) ? [owners.get(s.upstreamId)!] : []));
    if (ownerIds.length === 0) return;
    const refunded = await deps.db.activation.findMany({
      where: { id: { in: ownerIds }, status: { in: ['CANCELLED', 'EXPIRED'] }, endedAt: { lt: endedBefore } },
      select: { id: true, upstreamId: true, costRecoveredMicros: true },
    });
    for (const row of refunded) {
      await incidents.open('REFUND_MISSING', { providerId, upstreamId: row.upstreamId!, activationId: row.id, details: { costMicros: row.costRecoveredMicros?.toString() ?? null } });
    }
  }

  /** Activations we hold ACTIVE, bought before the grace period, that the provider no longer lists open. */
  async function recordUpstreamMissing(providerId: string, sales: UpstreamSale[], activatedBefore: Date): Promise<void> {
    const open = new Set(sales.map((s) => s.upstreamId));
    const active = await deps.db.activation.findMany({
      // Within their lifetime: at its end the provider closes the number a moment before we do.
      where: { providerId, status: 'ACTIVE', activatedAt: { lt: activatedBefore }, expiresAt: { gt: new Date(now()) } },
      select: { id: true, upstreamId: true },
    });
    for (const row of active.filter((a) => a.upstreamId && !open.has(a.upstreamId))) {
      await incidents.open('UPSTREAM_MISSING', { providerId, upstreamId: row.upstreamId!, activationId: row.id });
    }
  }

  return {
    async reconcileProvider(input: { providerId: string; suspects?: OrphanSuspects; graceMs: number }): Promise<ReconcileResult> {
      const result: ReconcileResult = { suspects: {}, cancelled: 0, withSms: 0, pending: 0 };
      let registered;
      try {
        registered = await deps.providers.get(input.providerId);
      } catch (error) {
        if (isUnknownProvider(error)) return result;
        throw error;
      }
      const { config, adapter } = registered;
      const sales = await adapter.getOpenSales();
      // Owned by an activation: its workflow settles it. Owned by reconciliation (activation null):
      // an orphan an earlier pass claimed, settled again while the provider still lists it open.
      const owners = await claims.owned(config.id, sales.map((s) => s.upstreamId));
      const seenAt = now();
      const settledBefore = new Date(seenAt - input.graceMs);
      await recordRefundsMissing(config.id, sales, owners, settledBefore);
      await recordUpstreamMissing(config.id, sales, settledBefore);

      for (const sale of sales) {
        const owner = owners.get(sale.upstreamId);
        if (owner) continue;
        const cost = sale.costMicros === null ? null : convertMicros(sale.costMicros, config.usdRate).toString();
        if (owner === undefined) {
          const firstSeen = input.suspects?.[sale.upstreamId] ?? seenAt;
          if (seenAt - firstSeen < input.graceMs) {
            result.suspects[sale.upstreamId] = firstSeen;
            continue;
          }
          const claim = await claims.asOrphan(config.id, sale, {
            outcome: 'CANCEL_PENDING',
            service: sale.service,
            country: sale.country,
            phone: sale.phone,
            soldAt: sale.soldAt,
            firstSeenAt: new Date(firstSeen).toISOString(),
            costMicros: cost,
          });
          if (claim === 'taken') continue; // a buy claimed it meanwhile: not an orphan
        }
        const outcome = await settle(adapter, sale);
        await deps.db.$executeRaw`
          UPDATE upstream_incidents
          SET details = details || jsonb_build_object(
            'outcome', ${outcome}::text,
            'costMicros', ${cost}::text,
            'recoveredMicros', ${outcome === 'CANCELLED' ? cost : null}::text,
            'lossMicros', ${outcome === 'SMS_RECEIVED' ? cost : null}::text,
            'codes', ${JSON.stringify(sale.codes)}::jsonb,
            'settledAt', ${outcome === 'CANCEL_PENDING' ? null : new Date(now()).toISOString()}::text)
          WHERE kind = 'ORPHAN_NUMBER' AND provider_id = ${config.id} AND upstream_id = ${sale.upstreamId}`;
        if (outcome === 'CANCELLED') result.cancelled += 1;
        else if (outcome === 'SMS_RECEIVED') result.withSms += 1;
        else result.pending += 1;
      }
      return result;
    },
  };
}

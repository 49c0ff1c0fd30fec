import type { Db } from '../src/db/client';
import type { UpstreamSale } from '../src/providers/types';

/** A number bought from a provider, as the workflow carries it and the activation row records it. */
export interface UpstreamPurchase {
  providerId: string;
  upstreamId: string;
  phone: string;
  boughtAt: string;
  expiresAt: string;
  cancelAllowedAt: string;
}

/** What claiming an upstream number found: it is now ours, or somebody else has it. */
export type ClaimOutcome = 'ours' | 'taken';

/**
 * Every number a provider sells us belongs to exactly one owner: the activation whose buy got it
 * (its row names the provider and upstream id) or, when none did, an ORPHAN_NUMBER incident that
 * reconciliation settles. A claim takes a transaction-scoped advisory lock on the number, so a
 * buy that reconciles a lost reply and the reconciliation pass can never both take the same one.
 */
export function createUpstreamClaims(db: Db) {
  const lock = (tx: Db, providerId: string, upstreamId: string) =>
    tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`upstream:${providerId}:${upstreamId}`}))`;

  return {
    /** The number this activation has already claimed (a retried buy whose reply was lost), if any. */
    async claimedBy(activationId: string): Promise<UpstreamPurchase | null> {
      const row = await db.activation.findUnique({
        where: { id: activationId },
        select: { providerId: true, upstreamId: true, phone: true, activatedAt: true, expiresAt: true, cancelAllowedAt: true },
      });
      if (!row?.providerId || !row.upstreamId || !row.phone || !row.activatedAt || !row.expiresAt || !row.cancelAllowedAt) return null;
      return {
        providerId: row.providerId,
        upstreamId: row.upstreamId,
        phone: row.phone,
        boughtAt: row.activatedAt.toISOString(),
        expiresAt: row.expiresAt.toISOString(),
        cancelAllowedAt: row.cancelAllowedAt.toISOString(),
      };
    },

    /** Records the number on the activation (still RESERVED) unless another owner has it. */
    async forActivation(activationId: string, purchase: UpstreamPurchase): Promise<ClaimOutcome> {
      return db.$transaction(async (tx) => {
        await lock(tx as unknown as Db, purchase.providerId, purchase.upstreamId);
        const owner = await tx.activation.findUnique({ where: { providerId_upstreamId: { providerId: purchase.providerId, upstreamId: purchase.upstreamId } }, select: { id: true } });
        if (owner) return owner.id === activationId ? 'ours' : 'taken';
        const orphan = await tx.upstreamIncident.findUnique({ where: { kind_providerId_upstreamId: { kind: 'ORPHAN_NUMBER', providerId: purchase.providerId, upstreamId: purchase.upstreamId } }, select: { id: true } });
        if (orphan) return 'taken';
        const claimed = await tx.activation.updateMany({
          where: { id: activationId, status: 'RESERVED', upstreamId: null },
          data: {
            providerId: purchase.providerId,
            upstreamId: purchase.upstreamId,
            phone: purchase.phone,
            activatedAt: new Date(purchase.boughtAt),
            expiresAt: new Date(purchase.expiresAt),
            cancelAllowedAt: new Date(purchase.cancelAllowedAt),
          },
        });
        // Not RESERVED any more, or already holding another number: never two numbers on one activation.
        return claimed.count === 1 ? 'ours' : 'taken';
      });
    },

    /** Opens the ORPHAN_NUMBER incident that makes reconciliation the number's owner, unless an activation has it. */
    async asOrphan(providerId: string, sale: UpstreamSale, details: Record<string, unknown>): Promise<ClaimOutcome> {
      return db.$transaction(async (tx) => {
        await lock(tx as unknown as Db, providerId, sale.upstreamId);
        const owner = await tx.activation.findUnique({ where: { providerId_upstreamId: { providerId, upstreamId: sale.upstreamId } }, select: { id: true } });
        if (owner) return 'taken';
        await tx.upstreamIncident.upsert({
          where: { kind_providerId_upstreamId: { kind: 'ORPHAN_NUMBER', providerId, upstreamId: sale.upstreamId } },
          create: { kind: 'ORPHAN_NUMBER', providerId, upstreamId: sale.upstreamId, details: details as object },
          update: {},
        });
        return 'ours';
      });
    },
  };
}

export type UpstreamClaims = ReturnType<typeof createUpstreamClaims>;

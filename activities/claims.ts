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
 * or, when none did, reconciliation (an ORPHAN_NUMBER incident). Ownership is one row in
 * `upstream_claims`, taken by a single INSERT … ON CONFLICT DO NOTHING — no lock, no interactive
 * transaction (which would wait for a pooled connection under load) — so a buy that reconciles a
 * lost reply and the reconciliation pass can never both take the same number.
 */
export function createUpstreamClaims(db: Db) {
  return {
    /** The number this activation has already claimed (a retried buy whose reply was lost), if any, and when its row was created. */
    async claimOf(activationId: string): Promise<{ claimed: UpstreamPurchase | null; createdAt: Date | null }> {
      const row = await db.activation.findUnique({
        where: { id: activationId },
        select: { providerId: true, upstreamId: true, phone: true, activatedAt: true, expiresAt: true, cancelAllowedAt: true, createdAt: true },
      });
      if (!row) return { claimed: null, createdAt: null };
      if (!row.providerId || !row.upstreamId || !row.phone || !row.activatedAt || !row.expiresAt || !row.cancelAllowedAt) return { claimed: null, createdAt: row.createdAt };
      return {
        claimed: {
          providerId: row.providerId,
          upstreamId: row.upstreamId,
          phone: row.phone,
          boughtAt: row.activatedAt.toISOString(),
          expiresAt: row.expiresAt.toISOString(),
          cancelAllowedAt: row.cancelAllowedAt.toISOString(),
        },
        createdAt: row.createdAt,
      };
    },

    /**
     * Claims the number for the activation (still RESERVED, holding no other number) and records it
     * on the activation row in the same statement; claiming it again for the same activation is
     * answered 'ours'.
     */
    async forActivation(activationId: string, purchase: UpstreamPurchase): Promise<ClaimOutcome> {
      const [result] = await db.$queryRaw<{ inserted: string | null; owner: string | null }[]>`
        WITH claimed AS (
          INSERT INTO upstream_claims (provider_id, upstream_id, activation_id)
          SELECT ${purchase.providerId}, ${purchase.upstreamId}, ${activationId}
          WHERE EXISTS (SELECT 1 FROM activations WHERE id = ${activationId} AND status = 'RESERVED' AND upstream_id IS NULL)
          ON CONFLICT DO NOTHING
          RETURNING activation_id
        ), recorded AS (
          UPDATE activations SET provider_id = ${purchase.providerId}, upstream_id = ${purchase.upstreamId}, phone = ${purchase.phone},
            activated_at = ${new Date(purchase.boughtAt)}, expires_at = ${new Date(purchase.expiresAt)}, cancel_allowed_at = ${new Date(purchase.cancelAllowedAt)}
          WHERE id IN (SELECT activation_id FROM claimed)
          RETURNING id
        )
        SELECT (SELECT id FROM recorded) AS inserted,
               (SELECT activation_id FROM upstream_claims WHERE provider_id = ${purchase.providerId} AND upstream_id = ${purchase.upstreamId}) AS owner`;
      return result.inserted === activationId || result.owner === activationId ? 'ours' : 'taken';
    },

    /** Claims the number for reconciliation and opens its ORPHAN_NUMBER incident, unless somebody owns it. */
    async asOrphan(providerId: string, sale: UpstreamSale, details: Record<string, unknown>): Promise<ClaimOutcome> {
      const claimed = await db.$queryRaw<{ claimed: number }[]>`
        WITH claimed AS (
          INSERT INTO upstream_claims (provider_id, upstream_id, activation_id) VALUES (${providerId}, ${sale.upstreamId}, NULL)
          ON CONFLICT DO NOTHING
          RETURNING upstream_id
        )
        INSERT INTO upstream_incidents (kind, provider_id, upstream_id, details)
        SELECT 'ORPHAN_NUMBER', ${providerId}, upstream_id, ${JSON.stringify(details)}::jsonb FROM claimed
        ON CONFLICT DO NOTHING
        RETURNING 1 AS claimed`;
      return claimed.length > 0 ? 'ours' : 'taken';
    },

    /** Of these numbers at one provider, the ones somebody (an activation or reconciliation) owns. */
    async owned(providerId: string, upstreamIds: string[]): Promise<Map<string, string | null>> {
      if (upstreamIds.length === 0) return new Map();
      const rows = await db.upstreamClaim.findMany({ where: { providerId, upstreamId: { in: upstreamIds } }, select: { upstreamId: true, activationId: true } });
      return new Map(rows.map((r) => [r.upstreamId, r.activationId]));
    },
  };
}

export type UpstreamClaims = ReturnType<typeof createUpstreamClaims>;

import type { PartnerEvents } from '../src/activations/partner-events';
import type { CatalogService, PurchaseCandidate } from '../src/catalog/catalog.service';
import type { Db } from '../src/db/client';
import type { WalletService } from '../src/wallet';
import type { ActivationQuote } from '../workflows/contracts';

export interface ReserveInput {
  activationId: string;
  userId: string;
  serviceCode: string;
  countryIso: string;
  maxPriceMicros: string | null;
  /** The API's quote, when the workflow was started with one (ActivationInput.quote). */
  quote?: ActivationQuote;
}

export interface Reservation {
  heldMicros: string;
  candidates: PurchaseCandidate[];
  /** When the activation row was created (ISO): later steps need not read it back. Absent in results recorded before it was added. */
  createdAt?: string;
}

/**
 * Money steps of a purchase. Every wallet key is the activation (= workflow) id, so a retried
 * activity finds its own hold / capture / release instead of moving money twice.
 */
export function createFundsActivities(deps: { db: Db; wallet: WalletService; catalog: CatalogService; partnerEvents?: Pick<PartnerEvents, 'balanceAfterCapture'> }) {
  return {
    /**
     * Records the activation and holds the funds the quote names: the API's, when it passed the
     * one it checked the balance against (a quote milliseconds old, and the same on every retry of
     * this step), else one made now.
     */
    async reserveFunds(input: ReserveInput): Promise<Reservation> {
      const quote = input.quote
        ? { holdMicros: BigInt(input.quote.holdMicros), candidates: input.quote.candidates }
        : await deps.catalog.quote({
            serviceCode: input.serviceCode,
            countryIso: input.countryIso,
            maxPriceMicros: input.maxPriceMicros === null ? null : BigInt(input.maxPriceMicros),
          });
      // A replay keeps the amount first recorded: the hold below is keyed, so it must not change.
      // One statement (insert, or the row as first recorded) where an upsert would read first.
      const [activation] = await deps.db.$queryRaw<{ held_micros: bigint; created_at: Date }[]>`
        INSERT INTO activations (id, user_id, service_code, country_iso, held_micros)
        VALUES (${input.activationId}, ${input.userId}::uuid, ${input.serviceCode}, ${input.countryIso}, ${quote.holdMicros})
        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
        RETURNING held_micros, created_at`;
      const hold = await deps.wallet.hold({
        userId: input.userId,
        key: input.activationId,
        amountMicros: activation.held_micros,
        memo: `Number for ${input.serviceCode} / ${input.countryIso}`,
      });
      return {
        heldMicros: hold.amountMicros.toString(),
        candidates: quote.candidates.filter((c) => BigInt(c.sellMicros) <= hold.amountMicros),
        createdAt: activation.created_at.toISOString(),
      };
    },

    /** Spends the sell price of the offer that sold (≤ the hold); the rest of the hold goes back. */
    async captureFunds(input: { activationId: string; priceMicros: string }): Promise<void> {
      await deps.wallet.capture({ key: input.activationId, amountMicros: BigInt(input.priceMicros) });
      if (!deps.partnerEvents) return;
      // balance.low is keyed by the activation: a replayed capture finds the event it enqueued.
      const activation = await deps.db.activation.findUnique({ where: { id: input.activationId }, select: { userId: true } });
      if (!activation) return;
      const wallet = await deps.wallet.getWallet(activation.userId);
      await deps.partnerEvents.balanceAfterCapture({ userId: activation.userId, activationId: input.activationId, availableMicros: wallet.availableMicros, heldMicros: wallet.heldMicros });
    },

    async releaseFunds(input: { activationId: string }): Promise<void> {
      await deps.wallet.release({ key: input.activationId });
    },
  };
}

import { Router } from 'express';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { LedgerEntryView, WalletService } from '../../wallet';
import { currentUser } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { serializeLedgerEntry, serializeWallet } from '../serializers';
import { pgBigint } from '../schemas';

const ledgerQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), before: pgBigint.optional() }) };

/** A hold's entries are keyed `<activation id>:hold|:capture|:release` (the hold's key is the activation id). */
const HOLD_STEP = /:(hold|capture|release)$/;
export const purchaseOf = (entry: Pick<LedgerEntryView, 'holdId' | 'idempotencyKey'>): string | null =>
  entry.holdId && HOLD_STEP.test(entry.idempotencyKey) ? entry.idempotencyKey.replace(HOLD_STEP, '') : null;

export function walletRoutes(deps: { wallet: WalletService; activations: Pick<ActivationService, 'purchaseLabels'> }): Router {
  const router = Router();
  router.get('/', validate(ledgerQuery), async (req, res) => {
    const { query } = valid(res, ledgerQuery);
    const userId = currentUser(req).id;
    const wallet = await deps.wallet.ensureWallet(userId);
    const ledger = await deps.wallet.listLedger(userId, { limit: query.limit, beforeId: query.before });
    // Each line about a number names it as the catalog does ("Telegram", "United Kingdom") and links to it.
    const labels = await deps.activations.purchaseLabels(userId, ledger.flatMap((entry) => purchaseOf(entry) ?? []));
    res.json({
      wallet: serializeWallet(wallet),
      ledger: ledger.map((entry) => {
        const label = labels.get(purchaseOf(entry) ?? '');
        return {
          ...serializeLedgerEntry(entry),
          purchase: label ? { activationId: label.activationId, serviceCode: label.serviceCode, serviceName: label.serviceName, countryIso: label.countryIso, countryName: label.countryName } : null,
        };
      }),
    });
  });
  return router;
}

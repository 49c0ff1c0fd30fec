import { Router } from 'express';
import { z } from 'zod';
import type { WalletService } from '../../wallet';
import { currentUser } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { serializeLedgerEntry, serializeWallet } from '../serializers';
import { pgBigint } from '../schemas';

const ledgerQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), before: pgBigint.optional() }) };

export function walletRoutes(deps: { wallet: WalletService }): Router {
  const router = Router();
  router.get('/', validate(ledgerQuery), async (req, res) => {
    const { query } = valid(res, ledgerQuery);
    const userId = currentUser(req).id;
    const wallet = await deps.wallet.ensureWallet(userId);
    const ledger = await deps.wallet.listLedger(userId, { limit: query.limit, beforeId: query.before });
    res.json({ wallet: serializeWallet(wallet), ledger: ledger.map(serializeLedgerEntry) });
  });
  return router;
}

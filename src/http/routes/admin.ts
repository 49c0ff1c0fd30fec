import { Router } from 'express';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { UserAdminService } from '../../auth/user-admin.service';
import type { WalletService } from '../../wallet';
import { actorOf } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { activationIdParams, idempotencyKey, positiveMicros } from '../schemas';
import { serializeLedgerEntry, serializeWallet } from '../serializers';

const credit = {
  params: z.object({ userId: z.uuid() }),
  body: z.object({ amountMicros: positiveMicros, memo: z.string().trim().min(1).max(200).default('Admin credit') }).strict(),
};
const usersQuery = { query: z.object({ q: z.string().max(100).default(''), limit: z.coerce.number().int().min(1).max(200).default(50) }) };
const activationsQuery = {
  query: z.object({
    status: z.enum(['RESERVED', 'ACTIVE', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']).optional(),
    userId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(100),
  }),
};
const byId = { params: activationIdParams };

/** /api/admin: mounted behind requireUser + requireAdmin. */
export function adminRoutes(deps: { wallet: WalletService; activations: ActivationService; userAdmin: UserAdminService }): Router {
  const router = Router();

  router.get('/users', validate(usersQuery), async (_req, res) => {
    res.json({ users: await deps.userAdmin.search(valid(res, usersQuery).query) });
  });

  router.post('/wallets/:userId/credit', validate(credit), async (req, res) => {
    const { params, body } = valid(res, credit);
    const key = idempotencyKey.parse(req.get('Idempotency-Key'));
    const { entry, wallet } = await deps.userAdmin.credit({ userId: params.userId, amountMicros: body.amountMicros, memo: body.memo, idempotencyKey: key }, actorOf(req));
    res.json({ entry: serializeLedgerEntry(entry), wallet: serializeWallet(wallet) });
  });

  router.get('/activations', validate(activationsQuery), async (_req, res) => {
    const { query } = valid(res, activationsQuery);
    const activations = await deps.activations.list({ userId: query.userId, status: query.status, limit: query.limit });
    const emails = await deps.userAdmin.emailsOf(activations.map((a) => a.userId));
    res.json({ activations: activations.map((a) => ({ ...a, userEmail: emails.get(a.userId) ?? null })) });
  });

  router.get('/activations/:id', validate(byId), async (_req, res) => {
    const { params } = valid(res, byId);
    res.json({ activation: await deps.activations.get(params.id, null) });
  });

  router.post('/activations/:id/cancel', validate(byId), async (req, res) => {
    const { params } = valid(res, byId);
    const { activation, scheduledAt } = await deps.activations.adminCancel(params.id, actorOf(req));
    // 202: accepted, and the workflow cancels at the provider once its minimum age has passed.
    res.status(scheduledAt ? 202 : 200).json({ activation, cancellation: scheduledAt ? { state: 'SCHEDULED', at: scheduledAt } : { state: 'DONE' } });
  });

  router.get('/invariants', async (_req, res) => {
    res.json({ violations: await deps.wallet.checkInvariants() });
  });

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { Db } from '../../db/client';
import type { AuditLog } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import type { WalletService } from '../../wallet';
import { currentUser } from '../middleware/auth';
import { clientIp } from '../middleware/rate-limit';
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
export function adminRoutes(deps: { db: Db; wallet: WalletService; activations: ActivationService; audit: AuditLog }): Router {
  const router = Router();

  router.get('/users', validate(usersQuery), async (_req, res) => {
    const { query } = valid(res, usersQuery);
    const users = await deps.db.user.findMany({
      where: query.q ? { email: { contains: query.q, mode: 'insensitive' } } : undefined,
      include: { wallet: true },
      orderBy: { createdAt: 'desc' },
      take: query.limit,
    });
    res.json({
      users: users.map((u) => ({
        id: u.id,
        email: u.email,
        role: u.role,
        availableMicros: (u.wallet?.available ?? 0n).toString(),
        heldMicros: (u.wallet?.held ?? 0n).toString(),
        createdAt: u.createdAt.toISOString(),
      })),
    });
  });

  /** The only way money enters a wallet until payments exist: an admin, with an idempotency key. */
  router.post('/wallets/:userId/credit', validate(credit), async (req, res) => {
    const { params, body } = valid(res, credit);
    const key = idempotencyKey.parse(req.get('Idempotency-Key'));
    const user = await deps.db.user.findUnique({ where: { id: params.userId } });
    if (!user) throw notFound('USER_NOT_FOUND', 'No such user.');
    await deps.wallet.ensureWallet(user.id);
    const entry = await deps.wallet.credit({
      userId: user.id,
      amountMicros: body.amountMicros,
      idempotencyKey: `admin-credit:${key}`,
      memo: body.memo,
      actorId: currentUser(req).id,
    });
    await deps.audit.record({
      action: 'admin.wallet.credit',
      actorId: currentUser(req).id,
      targetType: 'user',
      targetId: user.id,
      ip: clientIp(req),
      details: { amountMicros: body.amountMicros.toString(), ledgerEntryId: entry.id.toString(), idempotencyKey: key },
    });
    res.json({ entry: serializeLedgerEntry(entry), wallet: serializeWallet(await deps.wallet.getWallet(user.id)) });
  });

  router.get('/activations', validate(activationsQuery), async (_req, res) => {
    const { query } = valid(res, activationsQuery);
    const activations = await deps.activations.list({ userId: query.userId, status: query.status, limit: query.limit });
    const emails = new Map(
      (await deps.db.user.findMany({ where: { id: { in: [...new Set(activations.map((a) => a.userId))] } }, select: { id: true, email: true } })).map((u) => [u.id, u.email]),
    );
    res.json({ activations: activations.map((a) => ({ ...a, userEmail: emails.get(a.userId) ?? null })) });
  });

  router.get('/activations/:id', validate(byId), async (_req, res) => {
    const { params } = valid(res, byId);
    res.json({ activation: await deps.activations.get(params.id, null) });
  });

  router.post('/activations/:id/cancel', validate(byId), async (req, res) => {
    const { params } = valid(res, byId);
    const activation = await deps.activations.adminCancel(params.id);
    await deps.audit.record({ action: 'admin.activation.cancel', actorId: currentUser(req).id, targetType: 'activation', targetId: params.id, ip: clientIp(req), details: { userId: activation.userId, status: activation.status } });
    res.json({ activation });
  });

  router.get('/invariants', async (_req, res) => {
    res.json({ violations: await deps.wallet.checkInvariants() });
  });

  return router;
}

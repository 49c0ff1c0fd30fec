import { Router } from 'express';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { AdminReports } from '../../activations/reports';
import type { UserAdminService } from '../../auth/user-admin.service';
import type { WalletService } from '../../wallet';
import { actorOf } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { activationIdParams, countryIso, idempotencyKey, positiveMicros, serviceCode } from '../schemas';
import { jsonSafe, serializeLedgerEntry, serializeWallet } from '../serializers';

const credit = {
  params: z.object({ userId: z.uuid() }),
  body: z.object({ amountMicros: positiveMicros, memo: z.string().trim().min(1).max(200).default('Admin credit') }).strict(),
};
const userUpdate = {
  params: z.object({ userId: z.uuid() }),
  body: z
    .object({ role: z.enum(['CUSTOMER', 'ADMIN']).optional(), disabled: z.boolean().optional() })
    .strict()
    .refine((b) => b.role !== undefined || b.disabled !== undefined, 'give role, disabled or both'),
};
const usersQuery = { query: z.object({ q: z.string().max(100).default(''), limit: z.coerce.number().int().min(1).max(200).default(50) }) };
const debit = {
  params: z.object({ userId: z.uuid() }),
  // A debit always says why: it is the customer's money.
  body: z.object({ amountMicros: positiveMicros, memo: z.string().trim().min(3).max(200) }).strict(),
};
const byUser = { params: z.object({ userId: z.uuid() }), query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) };
const activationsQuery = {
  query: z.object({
    status: z.enum(['RESERVED', 'ACTIVE', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']).optional(),
    userId: z.uuid().optional(),
    /** Part of the owner's e-mail, case-insensitive. */
    email: z.string().trim().min(1).max(200).optional(),
    provider: z.string().regex(/^[a-z0-9-]{2,40}$/).optional(),
    service: serviceCode.optional(),
    country: countryIso.optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    /** Only those stuck (a provider call retrying, or open past their time) for more than this many minutes. */
    stuckMinutes: z.coerce.number().int().min(0).max(100_000).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(100),
  }),
};
const byId = { params: activationIdParams };
const terminate = { params: activationIdParams, body: z.object({ reason: z.string().trim().min(3).max(500) }).strict() };
const period = z.object({
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
});
const moneyQuery = { query: period.extend({ by: z.enum(['provider', 'service', 'country']).default('provider'), bucket: z.enum(['hour', 'day']).default('day') }) };
const reconciliationQuery = { query: period.extend({ limit: z.coerce.number().int().min(1).max(500).default(100) }) };
const dashboardQuery = { query: z.object({ minutes: z.coerce.number().int().min(5).max(1440).default(60) }) };

const DAY_MS = 86_400_000;
/** A period from the query; the last 30 days by default. */
function periodOf(q: { from?: Date; to?: Date }): { from: Date; to: Date } {
  const to = q.to ?? new Date(Date.now() + 60_000);
  return { from: q.from ?? new Date(to.getTime() - 30 * DAY_MS), to };
}

/** /api/admin: mounted behind requireUser + requireAdmin. */
export function adminRoutes(deps: { wallet: WalletService; activations: ActivationService; userAdmin: UserAdminService; reports: AdminReports }): Router {
  const router = Router();

  router.get('/users', validate(usersQuery), async (_req, res) => {
    res.json({ users: await deps.userAdmin.search(valid(res, usersQuery).query) });
  });

  router.patch('/users/:userId', validate(userUpdate), async (req, res) => {
    const { params, body } = valid(res, userUpdate);
    res.json({ user: await deps.userAdmin.update(params.userId, body, actorOf(req)) });
  });

  router.post('/wallets/:userId/credit', validate(credit), async (req, res) => {
    const { params, body } = valid(res, credit);
    const key = idempotencyKey.parse(req.get('Idempotency-Key'));
    const { entry, wallet } = await deps.userAdmin.credit({ userId: params.userId, amountMicros: body.amountMicros, memo: body.memo, idempotencyKey: key }, actorOf(req));
    res.json({ entry: serializeLedgerEntry(entry), wallet: serializeWallet(wallet) });
  });

  router.get('/users/:userId', validate(byUser), async (_req, res) => {
    const { params, query } = valid(res, byUser);
    const { user, wallet, ledger } = await deps.userAdmin.walletOf(params.userId, query.limit);
    res.json({ user, wallet: wallet ? serializeWallet(wallet) : null, ledger: ledger.map(serializeLedgerEntry) });
  });

  router.post('/wallets/:userId/debit', validate(debit), async (req, res) => {
    const { params, body } = valid(res, debit);
    const key = idempotencyKey.parse(req.get('Idempotency-Key'));
    const { entry, wallet } = await deps.userAdmin.debit({ userId: params.userId, amountMicros: body.amountMicros, memo: body.memo, idempotencyKey: key }, actorOf(req));
    res.json({ entry: serializeLedgerEntry(entry), wallet: serializeWallet(wallet) });
  });

  router.get('/activations', validate(activationsQuery), async (_req, res) => {
    const { query } = valid(res, activationsQuery);
    // An e-mail names users: none matching is an empty answer, not "every user".
    const userIds = query.email ? (await deps.userAdmin.search({ q: query.email, limit: 200 })).map((u) => u.id) : undefined;
    const { activations, stuckFrom } =
      userIds && userIds.length === 0
        ? { activations: [], stuckFrom: [] }
        : await deps.activations.adminSearch({
            userId: query.userId,
            userIds,
            status: query.status,
            providerId: query.provider,
            serviceCode: query.service,
            countryIso: query.country,
            from: query.from,
            to: query.to,
            stuckMinutes: query.stuckMinutes,
            limit: query.limit,
          });
    const emails = await deps.userAdmin.emailsOf(activations.map((a) => a.userId));
    res.json({ activations: activations.map((a) => ({ ...a, userEmail: emails.get(a.userId) ?? null })), stuckFrom });
  });

  router.get('/activations/:id', validate(byId), async (_req, res) => {
    const { params } = valid(res, byId);
    const detail = await deps.activations.adminDetail(params.id);
    const emails = await deps.userAdmin.emailsOf([detail.activation.userId]);
    res.json(jsonSafe({ ...detail, activation: { ...detail.activation, userEmail: emails.get(detail.activation.userId) ?? null } }));
  });

  router.post('/activations/:id/terminate', validate(terminate), async (req, res) => {
    const { params, body } = valid(res, terminate);
    res.json({ activation: await deps.activations.adminTerminate(params.id, body.reason, actorOf(req)) });
  });

  router.post('/activations/:id/retry-step', validate(byId), async (req, res) => {
    res.json(await deps.activations.adminRetryStuckStep(valid(res, byId).params.id, actorOf(req)));
  });

  router.get('/money', validate(moneyQuery), async (_req, res) => {
    const { query } = valid(res, moneyQuery);
    const { from, to } = periodOf(query);
    res.json(jsonSafe({ from, to, by: query.by, bucket: query.bucket, ...(await deps.reports.money({ from, to, by: query.by, bucket: query.bucket })) }));
  });

  router.get('/reconciliation', validate(reconciliationQuery), async (_req, res) => {
    const { query } = valid(res, reconciliationQuery);
    const { from, to } = periodOf(query);
    res.json(jsonSafe({ from, to, ...(await deps.reports.reconciliation({ from, to, limit: query.limit })) }));
  });

  router.get('/dashboard', validate(dashboardQuery), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(jsonSafe(await deps.reports.dashboard(valid(res, dashboardQuery).query.minutes)));
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

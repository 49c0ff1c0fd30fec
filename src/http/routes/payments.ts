import { Router, type RequestHandler } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { PaymentsService, TopupView } from '../../payments';
import type { Logger } from '../../lib/logger';
import { actorOf, currentUser } from '../middleware/auth';
import { rawBodyOf } from '../middleware/signing';
import { valid, validate } from '../middleware/validate';
import { idempotencyKey, micros, positiveMicros } from '../schemas';

const topupId = z.object({ id: z.string().regex(/^topup-[0-9a-f-]{36}$/, 'not a top-up id') });
const createTopup = {
  body: z
    .object({
      amountMicros: positiveMicros,
      processor: z.enum(['stripe', 'nowpayments', 'sandbox']),
      payCurrency: z.string().regex(/^[a-z0-9]{2,20}$/).optional(),
      couponCode: z.string().trim().min(1).max(40).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').optional(),
    })
    .strict(),
};
const listQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) };
const byId = { params: topupId };

/** For crypto, the QR code a wallet app scans: `<currency>:<address>?amount=<amount>`, as an inline SVG. */
async function withQr(view: TopupView): Promise<TopupView & { qrSvg: string | null }> {
  if (!view.payAddress) return { ...view, qrSvg: null };
  const text = `${view.payAddress}${view.processorAmount ? `?amount=${view.processorAmount}` : ''}`;
  return { ...view, qrSvg: await QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }) };
}

/** /api/payments: a customer's own top-ups (mounted behind requireUser). */
export function paymentRoutes(deps: { payments: PaymentsService }): Router {
  const router = Router();
  router.get('/options', (_req, res) => {
    res.json(deps.payments.options());
  });
  router.post('/topups', validate(createTopup), async (req, res) => {
    const { body } = valid(res, createTopup);
    const key = idempotencyKey.optional().parse(req.get('idempotency-key'));
    const topup = await deps.payments.createTopup(currentUser(req).id, { ...body, idempotencyKey: key });
    res.status(201).json({ topup: await withQr(topup) });
  });
  router.get('/topups', validate(listQuery), async (req, res) => {
    res.json({ topups: await deps.payments.listTopups({ userId: currentUser(req).id, limit: valid(res, listQuery).query.limit }) });
  });
  router.get('/topups/:id', validate(byId), async (req, res) => {
    res.json({ topup: await withQr(await deps.payments.getTopup(currentUser(req).id, valid(res, byId).params.id)) });
  });
  router.post('/topups/:id/sandbox-pay', validate(byId), async (req, res) => {
    res.json({ topup: await deps.payments.sandboxPay(currentUser(req).id, valid(res, byId).params.id) });
  });
  return router;
}

/**
 * /webhooks/payments/<processor>: verified over the exact bytes the processor signed (kept by
 * express.json's verify hook). A forged callback is 400 and changes nothing; a callback for no
 * payment of ours is acknowledged (a processor retrying it for days helps no one) and logged.
 */
export function paymentWebhookRoutes(deps: { payments: PaymentsService; limit: RequestHandler; logger: Logger }): Router {
  const router = Router();
  router.post('/:processor', deps.limit, async (req, res) => {
    const processor = String(req.params.processor);
    const headers = { 'stripe-signature': req.get('stripe-signature'), 'x-nowpayments-sig': req.get('x-nowpayments-sig') };
    const outcome = await deps.payments.handleCallback(processor, rawBodyOf(req), headers);
    res.json({ received: true, ...outcome });
  });
  return router;
}

const adminList = {
  query: z.object({
    status: z.enum(['CREATED', 'AWAITING_PAYMENT', 'CONFIRMED', 'CREDITED', 'EXPIRED', 'FAILED']).optional(),
    processor: z.enum(['stripe', 'nowpayments', 'sandbox']).optional(),
    userId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
};
const refund = { params: topupId, body: z.object({ amountMicros: positiveMicros.optional() }).strict() };
const coupon = {
  body: z
    .object({
      code: z.string().trim().min(3).max(40).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
      kind: z.enum(['FIXED', 'PERCENT']),
      /** Micros for FIXED, basis points for PERCENT. */
      value: positiveMicros,
      maxUses: z.number().int().min(1).max(1_000_000).nullable().default(null),
      perCustomerLimit: z.number().int().min(1).max(1000).default(1),
      minTopupMicros: micros.default(0n),
      expiresAt: z.iso.datetime().nullable().default(null),
    })
    .strict(),
};

/** /api/admin: payments with status, processor, amounts and fees; refunds; coupons. */
export function paymentAdminRoutes(deps: { payments: PaymentsService }): Router {
  const router = Router();
  router.get('/payments', validate(adminList), async (_req, res) => {
    res.json({ payments: await deps.payments.listTopups(valid(res, adminList).query) });
  });
  router.post('/payments/:id/refund', validate(refund), async (req, res) => {
    const { params, body } = valid(res, refund);
    res.json({ topup: await deps.payments.refund(params.id, body.amountMicros ?? null, actorOf(req)) });
  });
  router.get('/coupons', async (_req, res) => {
    res.json({ coupons: await deps.payments.listCoupons() });
  });
  router.post('/coupons', validate(coupon), async (req, res) => {
    const { body } = valid(res, coupon);
    res.status(201).json({ coupon: await deps.payments.createCoupon({ ...body, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null }, actorOf(req)) });
  });
  return router;
}

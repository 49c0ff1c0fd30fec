import { createHash, randomUUID } from 'node:crypto';
import { Prisma, type Db } from '../db/client';
import type { Coupon, Topup } from '../generated/prisma/client';
import type { Actor, AuditLog } from '../lib/audit';
import { AppError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { IncidentService } from '../providers/incidents.service';
import type { WalletService } from '../wallet';
import type { PaymentState, TopupCheck, TopupStatus } from '../../workflows/contracts';
import { mulDiv, scaled } from './amounts';
import type { PaymentProcessor, PaymentRecord, ProcessorId, Reversal } from './processor';
import type { SandboxProcessor } from './sandbox.processor';

/** Starts and nudges top-up workflows (src/temporal/topups.ts): the service never imports Temporal. */
export interface TopupOrchestrator {
  start(topupId: string): Promise<void>;
  notify(topupId: string, notice: { source: 'callback' | 'sandbox'; eventType: string }): Promise<void>;
}

export interface PaymentLimits {
  minMicros: bigint;
  maxMicros: bigint;
  dailyMaxMicros: bigint;
}

export interface PaymentsServiceDeps {
  db: Db;
  wallet: WalletService;
  incidents: IncidentService;
  audit: AuditLog;
  processors: readonly PaymentProcessor[];
  limits: PaymentLimits;
  expirySeconds: number;
  /** The web app, where Stripe sends the customer back. */
  publicUrl: string;
  /** Where processors post their callbacks: the API's origin as the processor reaches it. */
  callbackBaseUrl: string;
  orchestrator?: TopupOrchestrator;
  logger?: Logger;
}

export interface TopupView {
  id: string;
  userId: string;
  processor: string;
  status: TopupStatus;
  amountMicros: string;
  currency: string;
  processorAmount: string | null;
  usdRate: string | null;
  checkoutUrl: string | null;
  payAddress: string | null;
  paidAmount: string | null;
  creditedMicros: string | null;
  bonusMicros: string;
  feeMicros: string | null;
  reversedMicros: string;
  couponCode: string | null;
  failureReason: string | null;
  createdAt: string;
  expiresAt: string;
  creditedAt: string | null;
}

export interface CouponInput {
  code: string;
  kind: 'FIXED' | 'PERCENT';
  /** Micros for FIXED, basis points for PERCENT. */
  value: bigint;
  maxUses: number | null;
  perCustomerLimit: number;
  minTopupMicros: bigint;
  expiresAt: Date | null;
}

const DAY_MS = 86_400_000;
const TERMINAL: readonly TopupStatus[] = ['CREDITED', 'EXPIRED', 'FAILED'];
const PROCESSOR_NAMES: Record<ProcessorId, string> = { stripe: 'card (Stripe)', nowpayments: 'crypto (NOWPayments)', sandbox: 'sandbox' };

/** `topup-` + a UUID; from an Idempotency-Key, a UUID-shaped hash of (user, key), so the same request finds the same top-up. */
function topupIdFor(userId: string, key: string | undefined): string {
  if (!key) return `topup-${randomUUID()}`;
  const hex = createHash('sha256').update(`${userId}\n${key}`).digest('hex');
  return `topup-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const normaliseCouponCode = (code: string) => code.trim().toUpperCase();

/**
 * Money in. A top-up is a row here and a workflow (workflows/topup.ts) that owns its life; this
 * service is what both the API and the workflow's activities call. Credits are wallet credits
 * keyed `<topup id>:credit` and `:bonus`, so however often a step runs the wallet moves once;
 * refunds and chargebacks are wallet debits keyed by the processor's own id for them.
 */
export class PaymentsService {
  private readonly processors: Map<string, PaymentProcessor>;

  constructor(private readonly deps: PaymentsServiceDeps) {
    this.processors = new Map(deps.processors.map((p) => [p.id, p]));
  }

  options() {
    return {
      processors: [...this.processors.values()].map((p) => ({ id: p.id, kind: p.kind, name: PROCESSOR_NAMES[p.id], payCurrencies: p.payCurrencies })),
      limits: { minMicros: this.deps.limits.minMicros.toString(), maxMicros: this.deps.limits.maxMicros.toString(), dailyMaxMicros: this.deps.limits.dailyMaxMicros.toString() },
      presetsMicros: ['5000000', '10000000', '25000000', '50000000', '100000000'].filter((p) => BigInt(p) >= this.deps.limits.minMicros && BigInt(p) <= this.deps.limits.maxMicros),
    };
  }

  private processor(id: string): PaymentProcessor {
    const processor = this.processors.get(id);
    if (!processor) throw new AppError('PROCESSOR_UNAVAILABLE', `Payment processor "${id}" is not available here.`, { available: [...this.processors.keys()] });
    return processor;
  }

  // ─── The customer's side ─────────────────────────────────────────────────────────────────────

  /**
   * Checks the limits, takes the coupon (atomically: a single-use coupon goes to exactly one of
   * any concurrent top-ups) and records the top-up in one transaction, then starts its workflow.
   * The same Idempotency-Key again returns the same top-up.
   */
  async createTopup(userId: string, input: { amountMicros: bigint; processor: string; payCurrency?: string | null; couponCode?: string | null; idempotencyKey?: string }): Promise<TopupView> {
    const processor = this.processor(input.processor);
    const payCurrency = processor.kind === 'crypto' ? (input.payCurrency ?? processor.payCurrencies[0] ?? null) : null;
    if (processor.kind === 'crypto' && (!payCurrency || !processor.payCurrencies.includes(payCurrency))) {
      throw new AppError('PROCESSOR_UNAVAILABLE', `Pay with one of: ${processor.payCurrencies.join(', ')}.`, { payCurrencies: processor.payCurrencies });
    }
    const { minMicros, maxMicros, dailyMaxMicros } = this.deps.limits;
    const amount = input.amountMicros;
    if (amount < minMicros) throw new AppError('TOPUP_BELOW_MINIMUM', 'This amount is below the minimum top-up.', { minMicros: minMicros.toString() });
    if (amount > maxMicros) throw new AppError('TOPUP_ABOVE_MAXIMUM', 'This amount is above the maximum top-up.', { maxMicros: maxMicros.toString() });
    const id = topupIdFor(userId, input.idempotencyKey);
    const existing = await this.deps.db.topup.findUnique({ where: { id } });
    if (existing) return this.replay(existing, userId, input);

    const wallet = await this.deps.wallet.ensureWallet(userId);
    const created = await this.deps.db.$transaction(
      async (tx) => {
        // One customer's top-ups are created one at a time: the daily sum below cannot be raced past.
        await tx.$queryRaw`SELECT id FROM wallets WHERE id = ${wallet.walletId}::uuid FOR UPDATE`;
        const again = await tx.topup.findUnique({ where: { id } });
        if (again) return again;
        const since = new Date(Date.now() - DAY_MS);
        const [{ total }] = await tx.$queryRaw<{ total: bigint }[]>`
          SELECT COALESCE(SUM(amount_micros), 0)::bigint AS total FROM topups
          WHERE user_id = ${userId}::uuid AND created_at > ${since} AND status NOT IN ('EXPIRED', 'FAILED')`;
        if (total + amount > dailyMaxMicros) {
          throw new AppError('TOPUP_DAILY_LIMIT', 'This top-up would pass your limit for one day.', { dailyMaxMicros: dailyMaxMicros.toString(), usedMicros: total.toString() });
        }
        let bonus = 0n;
        let couponCode: string | null = null;
        if (input.couponCode) {
          const coupon = await this.takeCoupon(tx, normaliseCouponCode(input.couponCode), userId, amount);
          bonus = coupon.kind === 'FIXED' ? coupon.value : (amount * coupon.value) / 10_000n;
          couponCode = coupon.code;
          await tx.couponRedemption.create({ data: { couponId: coupon.id, userId, topupId: id, bonusMicros: bonus } });
        }
        return tx.topup.create({
          data: {
            id,
            userId,
            processor: processor.id,
            amountMicros: amount,
            currency: payCurrency ?? 'usd',
            bonusMicros: bonus,
            couponCode,
            expiresAt: new Date(Date.now() + this.deps.expirySeconds * 1000),
          },
        });
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted, maxWait: 10_000, timeout: 15_000 },
    );
    await this.startWorkflow(created);
    return toView(created);
  }

  private async replay(existing: Topup, userId: string, input: { amountMicros: bigint; processor: string }): Promise<TopupView> {
    if (existing.userId !== userId || existing.amountMicros !== input.amountMicros || existing.processor !== input.processor) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for another top-up.');
    }
    // A first request that recorded the top-up but died before starting its workflow: start it now.
    if (existing.status === 'CREATED') await this.startWorkflow(existing);
    return toView(existing);
  }

  private async startWorkflow(topup: Topup): Promise<void> {
    if (!this.deps.orchestrator) return;
    await this.deps.orchestrator.start(topup.id);
  }

  /**
   * Takes one use of a coupon for this customer. The conditional UPDATE both checks and counts
   * the use and locks the coupon row, so concurrent redemptions queue here; the per-customer
   * count after it sees every redemption committed before the lock was granted.
   */
  private async takeCoupon(tx: Prisma.TransactionClient, code: string, userId: string, amount: bigint): Promise<Coupon> {
    const [coupon] = await tx.$queryRaw<Coupon[]>`
      UPDATE coupons SET uses = uses + 1
      WHERE code = ${code} AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > now())
      RETURNING id, code, kind, value, max_uses AS "maxUses", uses, per_customer_limit AS "perCustomerLimit",
                min_topup_micros AS "minTopupMicros", expires_at AS "expiresAt", created_at AS "createdAt"`;
    if (!coupon) {
      const current = await tx.coupon.findUnique({ where: { code } });
      if (!current) throw new AppError('COUPON_NOT_FOUND', 'No such coupon.');
      if (current.expiresAt && current.expiresAt <= new Date()) throw new AppError('COUPON_EXPIRED', 'This coupon has expired.');
      throw new AppError('COUPON_EXHAUSTED', 'This coupon has been used up.');
    }
    if (amount < coupon.minTopupMicros) throw new AppError('COUPON_MIN_AMOUNT', 'This coupon needs a larger top-up.', { minTopupMicros: coupon.minTopupMicros.toString() });
    const mine = await tx.couponRedemption.count({ where: { couponId: coupon.id, userId, status: { in: ['RESERVED', 'APPLIED'] } } });
    if (mine >= coupon.perCustomerLimit) throw new AppError('COUPON_LIMIT_REACHED', 'You have used this coupon as often as it allows.');
    return coupon;
  }

  async getTopup(userId: string | null, id: string): Promise<TopupView> {
    const topup = await this.deps.db.topup.findUnique({ where: { id } });
    if (!topup || (userId !== null && topup.userId !== userId)) throw new AppError('TOPUP_NOT_FOUND', 'No such top-up.');
    return toView(topup);
  }

  async listTopups(filter: { userId?: string; status?: TopupStatus; processor?: string; limit: number }): Promise<TopupView[]> {
    const rows = await this.deps.db.topup.findMany({
      where: { userId: filter.userId, status: filter.status, processor: filter.processor },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
    });
    return rows.map(toView);
  }

  /** The sandbox's "Pay" button: marks its payment paid and tells the workflow, which credits as for any processor. */
  async sandboxPay(userId: string, topupId: string): Promise<TopupView> {
    const topup = await this.deps.db.topup.findUnique({ where: { id: topupId } });
    if (!topup || topup.userId !== userId || topup.processor !== 'sandbox') throw new AppError('TOPUP_NOT_FOUND', 'No such sandbox top-up.');
    const sandbox = this.processors.get('sandbox') as SandboxProcessor | undefined;
    if (!sandbox) throw new AppError('PROCESSOR_UNAVAILABLE', 'The sandbox is off here.');
    if (!topup.processorRef) throw new AppError('TOPUP_NOT_FOUND', 'This top-up is not ready to pay yet; retry in a moment.');
    if (await sandbox.pay(topup.processorRef)) await this.deps.orchestrator?.notify(topupId, { source: 'sandbox', eventType: 'paid' });
    return toView(topup);
  }

  // ─── Callbacks ───────────────────────────────────────────────────────────────────────────────

  /**
   * A processor's callback: verified over its exact bytes first (a forged one changes nothing),
   * claimed once by its event id, then handed to the workflow, which asks the processor itself;
   * so a duplicate, a late or a reordered callback can only make it look sooner.
   */
  async handleCallback(processorId: string, rawBody: Buffer, headers: Record<string, string | undefined>): Promise<{ matched: boolean; duplicate: boolean }> {
    const processor = this.processor(processorId);
    const callback = processor.verifyCallback(rawBody, headers);
    const topup = callback.ref === null ? null : await this.deps.db.topup.findFirst({ where: { processor: processor.id, OR: [{ processorRef: callback.ref }, { chargeRef: callback.ref }] } });
    if (!topup) {
      this.deps.logger?.warn({ processor: processor.id, type: callback.type, eventId: callback.eventId }, 'payment callback for no top-up of ours');
      return { matched: false, duplicate: false };
    }
    if (callback.reversal) {
      // Taken back only from a credited top-up; before that the processor is asked to send it again.
      if (topup.status !== 'CREDITED') throw new AppError('PROCESSOR_TRANSIENT', 'This payment is not credited yet; send the callback again later.');
      await this.applyReversal(topup, callback.reversal, null);
    }
    const claimed = await this.deps.db.$executeRaw`
      INSERT INTO payment_events (processor, event_id, type, topup_id, payload)
      VALUES (${processor.id}, ${callback.eventId.slice(0, 300)}, ${callback.type.slice(0, 100)}, ${topup.id}, ${jsonbSafe(callback.payload)}::jsonb)
      ON CONFLICT (processor, event_id) DO NOTHING`;
    if (claimed === 1 && !callback.reversal && !TERMINAL.includes(topup.status)) {
      await this.deps.orchestrator?.notify(topup.id, { source: 'callback', eventType: callback.type });
    }
    // Money that arrived after the top-up expired (a crypto payment sent late) is still the customer's.
    if (!callback.reversal && topup.status === 'EXPIRED') await this.settleLate(topup);
    return { matched: true, duplicate: claimed === 0 };
  }

  /**
   * An EXPIRED top-up the processor now reports paid (or partly paid): credited as what arrived,
   * without the coupon bonus (its use was given back at expiry). Keyed like any credit, so
   * callbacks racing here credit once; the workflow is over, so this runs in the callback.
   */
  private async settleLate(topup: Topup): Promise<void> {
    if (!topup.processorRef) return;
    const status = await this.processor(topup.processor).fetchStatus(record(topup));
    if ((status.state !== 'paid' && status.state !== 'partial') || status.valueMicros === null || status.valueMicros <= 0n) return;
    await this.deps.db.topup.updateMany({
      where: { id: topup.id, status: 'EXPIRED' },
      data: { status: 'CONFIRMED', paidAmount: status.paidAmount, creditedMicros: status.valueMicros, bonusMicros: 0n, feeMicros: status.feeMicros, chargeRef: status.chargeRef ?? null, confirmedAt: new Date(), failureReason: 'paid after it expired' },
    });
    const current = await this.deps.db.topup.findUniqueOrThrow({ where: { id: topup.id } });
    if (current.status === 'CONFIRMED' || current.status === 'CREDITED') await this.creditTopup(topup.id);
  }

  /**
   * Takes a refund or chargeback back from the wallet, at the payment's own rate and in
   * proportion to what was paid, bonus included; never below zero: what the wallet no longer has
   * is a PAYMENT_SHORTFALL incident for admins. Keyed by the processor's id for the reversal.
   */
  private async applyReversal(topup: Topup, reversal: Reversal, actorId: string | null): Promise<void> {
    const total = (topup.creditedMicros ?? 0n) + topup.bonusMicros;
    const part = scaled(reversal.amount) ?? 0n;
    const whole = scaled(topup.paidAmount ?? topup.processorAmount) ?? 0n;
    const value = whole === 0n ? total : mulDiv(total, part, whole);
    const amount = value > total - topup.reversedMicros ? total - topup.reversedMicros : value;
    if (amount <= 0n) return;
    const prefix = `${topup.id}:reversal:`;
    const { shortfallMicros } = await this.deps.wallet.takeBack({
      userId: topup.userId,
      amountMicros: amount,
      idempotencyKey: `${prefix}${reversal.id}`,
      memo: `${reversal.kind === 'refund' ? 'Refund' : 'Chargeback'} of top-up via ${topup.processor}`,
      ...(actorId ? { actorId } : {}),
    });
    if (shortfallMicros > 0n) {
      await this.deps.incidents.open('PAYMENT_SHORTFALL', {
        providerId: topup.processor,
        upstreamId: `${topup.id}:${reversal.id}`,
        activationId: null,
        details: { topupId: topup.id, userId: topup.userId, kind: reversal.kind, reversedMicros: amount.toString(), shortfallMicros: shortfallMicros.toString() },
      });
    }
    // What the ledger says was taken back, recomputed: concurrent reversals each leave the right total.
    await this.deps.db.$executeRaw`
      UPDATE topups SET reversed_micros = (
        SELECT COALESCE(-SUM(available_delta), 0)::bigint FROM ledger_entries WHERE idempotency_key LIKE ${`${prefix}%`}
      ) WHERE id = ${topup.id}`;
  }

  /** An admin's refund through the processor; the wallet is debited at once (the processor's callback for it then finds it done). */
  async refund(topupId: string, amountMicros: bigint | null, actor: Actor): Promise<TopupView> {
    const topup = await this.deps.db.topup.findUnique({ where: { id: topupId } });
    if (!topup) throw new AppError('TOPUP_NOT_FOUND', 'No such top-up.');
    if (topup.status !== 'CREDITED' || !topup.processorRef) throw new AppError('TOPUP_NOT_REFUNDABLE', 'Only a credited top-up can be refunded.', { status: topup.status });
    const reversal = await this.processor(topup.processor).refund(record(topup), amountMicros ?? topup.amountMicros);
    await this.applyReversal(topup, reversal, actor.id);
    await this.deps.audit.record({ action: 'admin.payment.refund', actorId: actor.id, targetType: 'topup', targetId: topup.id, ip: actor.ip, details: { amountMicros: (amountMicros ?? topup.amountMicros).toString() } });
    return this.getTopup(null, topupId);
  }

  // ─── The workflow's steps (activities/payments.ts); each one safe to run again ─────────────

  /** Creates the payment at the processor once (a replay returns what the first run recorded). */
  async openPayment(topupId: string): Promise<TopupCheck> {
    const topup = await this.deps.db.topup.findUniqueOrThrow({ where: { id: topupId } });
    if (topup.processorRef) return { state: 'pending', expiresAt: topup.expiresAt.toISOString() };
    const processor = this.processor(topup.processor);
    const created = await processor.createPayment({
      topupId,
      amountMicros: topup.amountMicros,
      payCurrency: processor.kind === 'crypto' ? topup.currency : null,
      expiresAt: topup.expiresAt,
      description: 'SimGate wallet top-up',
      returnUrl: `${this.deps.publicUrl}/#/wallet/topup/${encodeURIComponent(topupId)}`,
      callbackUrl: `${this.deps.callbackBaseUrl}/webhooks/payments/${processor.id}`,
    });
    const updated = await this.deps.db.topup.update({
      where: { id: topupId },
      data: {
        status: 'AWAITING_PAYMENT',
        processorRef: created.ref,
        currency: created.currency,
        processorAmount: created.processorAmount,
        usdRate: created.usdRate,
        checkoutUrl: created.checkoutUrl,
        payAddress: created.payAddress,
        expiresAt: created.expiresAt,
      },
    });
    return { state: 'pending', expiresAt: updated.expiresAt.toISOString() };
  }

  /**
   * Asks the processor. A paid payment is CONFIRMED with its value fixed once (what arrived, at
   * the payment's own rate; a partial one only when `acceptPartial`, i.e. once it can no longer grow).
   */
  async checkPayment(topupId: string, options: { acceptPartial: boolean }): Promise<TopupCheck> {
    const topup = await this.deps.db.topup.findUniqueOrThrow({ where: { id: topupId } });
    const expiresAt = topup.expiresAt.toISOString();
    if (topup.status === 'CONFIRMED' || topup.status === 'CREDITED') return { state: 'paid', expiresAt };
    if (!topup.processorRef) return { state: 'pending', expiresAt };
    const status = await this.processor(topup.processor).fetchStatus(record(topup));
    const settled = status.state === 'paid' || (status.state === 'partial' && options.acceptPartial);
    if (settled && status.valueMicros !== null && status.valueMicros > 0n) {
      const bonus = status.valueMicros >= topup.amountMicros ? topup.bonusMicros : mulDiv(topup.bonusMicros, status.valueMicros, topup.amountMicros);
      await this.deps.db.topup.updateMany({
        where: { id: topupId, status: 'AWAITING_PAYMENT' },
        data: { status: 'CONFIRMED', paidAmount: status.paidAmount, creditedMicros: status.valueMicros, bonusMicros: bonus, feeMicros: status.feeMicros, chargeRef: status.chargeRef ?? null, confirmedAt: new Date() },
      });
      return { state: 'paid', expiresAt };
    }
    if (status.paidAmount !== null) await this.deps.db.topup.update({ where: { id: topupId }, data: { paidAmount: status.paidAmount } });
    return { state: settled ? 'failed' : status.state, expiresAt };
  }

  async expirePayment(topupId: string): Promise<void> {
    const topup = await this.deps.db.topup.findUniqueOrThrow({ where: { id: topupId } });
    if (topup.processorRef) await this.processor(topup.processor).expire(record(topup));
  }

  /** Credits a CONFIRMED top-up and its coupon bonus: two keyed wallet credits, so a replay moves nothing. */
  async creditTopup(topupId: string): Promise<{ creditedMicros: string }> {
    const topup = await this.deps.db.topup.findUniqueOrThrow({ where: { id: topupId } });
    if (topup.status !== 'CONFIRMED' && topup.status !== 'CREDITED') throw new AppError('LEDGER_INCONSISTENT', 'credit of a top-up that is not confirmed', { status: topup.status });
    const credited = topup.creditedMicros ?? 0n;
    await this.deps.wallet.credit({ userId: topup.userId, amountMicros: credited, idempotencyKey: `${topup.id}:credit`, memo: `Top-up via ${topup.processor}` });
    if (topup.bonusMicros > 0n) {
      await this.deps.wallet.credit({ userId: topup.userId, amountMicros: topup.bonusMicros, idempotencyKey: `${topup.id}:bonus`, memo: `Coupon ${topup.couponCode ?? ''} bonus`.trim() });
    }
    await this.deps.db.$transaction([
      this.deps.db.topup.updateMany({ where: { id: topupId, status: 'CONFIRMED' }, data: { status: 'CREDITED', creditedAt: new Date(), endedAt: new Date() } }),
      this.deps.db.couponRedemption.updateMany({ where: { topupId, status: 'RESERVED' }, data: { status: 'APPLIED', bonusMicros: topup.bonusMicros } }),
    ]);
    return { creditedMicros: credited.toString() };
  }

  /** Ends an unpaid top-up; its coupon use is given back. */
  async endTopup(topupId: string, status: 'EXPIRED' | 'FAILED', reason: string): Promise<void> {
    await this.deps.db.$transaction(async (tx) => {
      const ended = await tx.topup.updateMany({ where: { id: topupId, status: { in: ['CREATED', 'AWAITING_PAYMENT'] } }, data: { status, failureReason: reason.slice(0, 500), endedAt: new Date() } });
      if (ended.count === 0) return;
      const released = await tx.couponRedemption.findUnique({ where: { topupId } });
      if (released?.status === 'RESERVED') {
        await tx.couponRedemption.update({ where: { topupId }, data: { status: 'RELEASED' } });
        await tx.coupon.update({ where: { id: released.couponId }, data: { uses: { decrement: 1 } } });
      }
    });
  }

  // ─── Coupons (admin) ─────────────────────────────────────────────────────────────────────────

  async createCoupon(input: CouponInput, actor: Actor) {
    const code = normaliseCouponCode(input.code);
    if (input.kind === 'PERCENT' && (input.value < 1n || input.value > 10_000n)) throw new AppError('VALIDATION_ERROR', 'A percentage bonus is 1 to 10000 basis points.');
    try {
      const coupon = await this.deps.db.coupon.create({
        data: { code, kind: input.kind, value: input.value, maxUses: input.maxUses, perCustomerLimit: input.perCustomerLimit, minTopupMicros: input.minTopupMicros, expiresAt: input.expiresAt },
      });
      await this.deps.audit.record({ action: 'admin.coupon.create', actorId: actor.id, targetType: 'coupon', targetId: coupon.id, ip: actor.ip, details: { code } });
      return couponView(coupon);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new AppError('COUPON_EXISTS', 'A coupon with this code exists.');
      throw error;
    }
  }

  async listCoupons() {
    return (await this.deps.db.coupon.findMany({ orderBy: { createdAt: 'desc' }, take: 200 })).map(couponView);
  }

  /** Which payment states the workflow keeps waiting on. */
  static waiting(state: PaymentState): boolean {
    return state === 'pending' || state === 'confirming' || state === 'partial';
  }
}

/** jsonb refuses U+0000 even escaped: a processor's payload is kept without it rather than refused. */
const jsonbSafe = (payload: unknown) => JSON.stringify(payload).replace(/\\u0000/g, '');

const record = (topup: Topup): PaymentRecord => ({ ref: topup.processorRef ?? '', amountMicros: topup.amountMicros, processorAmount: topup.processorAmount, currency: topup.currency });

function couponView(coupon: Coupon) {
  return {
    id: coupon.id,
    code: coupon.code,
    kind: coupon.kind,
    value: coupon.value.toString(),
    maxUses: coupon.maxUses,
    uses: coupon.uses,
    perCustomerLimit: coupon.perCustomerLimit,
    minTopupMicros: coupon.minTopupMicros.toString(),
    expiresAt: coupon.expiresAt?.toISOString() ?? null,
  };
}

function toView(topup: Topup): TopupView {
  return {
    id: topup.id,
    userId: topup.userId,
    processor: topup.processor,
    status: topup.status,
    amountMicros: topup.amountMicros.toString(),
    currency: topup.currency,
    processorAmount: topup.processorAmount,
    usdRate: topup.usdRate,
    checkoutUrl: topup.checkoutUrl,
    payAddress: topup.payAddress,
    paidAmount: topup.paidAmount,
    creditedMicros: topup.creditedMicros?.toString() ?? null,
    bonusMicros: topup.bonusMicros.toString(),
    feeMicros: topup.feeMicros?.toString() ?? null,
    reversedMicros: topup.reversedMicros.toString(),
    couponCode: topup.couponCode,
    failureReason: topup.failureReason,
    createdAt: topup.createdAt.toISOString(),
    expiresAt: topup.expiresAt.toISOString(),
    creditedAt: topup.creditedAt?.toISOString() ?? null,
  };
}

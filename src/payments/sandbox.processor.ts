import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client';
import { AppError } from '../lib/errors';
import { formatScaled } from './amounts';
import type { CreatePaymentInput, CreatedPayment, PaymentProcessor, PaymentRecord, PaymentStatus, Reversal, VerifiedCallback } from './processor';

/**
 * The development and demo processor: a payment is a row in `sandbox_payments` that the
 * customer pays with a button in the web app (PaymentsService.sandboxPay). Never configured in
 * production (src/config refuses PAYMENTS_SANDBOX=true there, and it is off by default).
 */
export class SandboxProcessor implements PaymentProcessor {
  readonly id = 'sandbox' as const;
  readonly kind = 'sandbox' as const;
  readonly payCurrencies: readonly string[] = [];

  constructor(private readonly deps: { db: Db; publicUrl: string }) {}

  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    const row = await this.deps.db.sandboxPayment.upsert({
      where: { topupId: input.topupId },
      create: { id: `sbx_${randomBytes(10).toString('hex')}`, topupId: input.topupId, amountMicros: input.amountMicros },
      update: {},
    });
    return {
      ref: row.id,
      currency: 'usd',
      processorAmount: formatScaled(row.amountMicros, 6),
      usdRate: '1',
      checkoutUrl: `${this.deps.publicUrl}/#/wallet/topup/${encodeURIComponent(input.topupId)}`,
      payAddress: null,
      expiresAt: input.expiresAt,
    };
  }

  async fetchStatus(payment: PaymentRecord): Promise<PaymentStatus> {
    const row = await this.deps.db.sandboxPayment.findUnique({ where: { id: payment.ref } });
    if (!row) throw new AppError('TOPUP_NOT_FOUND', 'No such sandbox payment');
    if (row.status === 'paid' || row.status === 'refunded') return { state: 'paid', paidAmount: formatScaled(row.amountMicros, 6), valueMicros: row.amountMicros, feeMicros: 0n };
    return { state: row.status === 'expired' ? 'expired' : 'pending', paidAmount: null, valueMicros: null, feeMicros: null };
  }

  /** Marks the sandbox payment paid, once; false when it was not open (already paid, or expired). */
  async pay(ref: string): Promise<boolean> {
    const updated = await this.deps.db.sandboxPayment.updateMany({ where: { id: ref, status: 'open' }, data: { status: 'paid', paidAt: new Date() } });
    return updated.count === 1;
  }

  verifyCallback(): VerifiedCallback {
    throw new AppError('PAYMENT_CALLBACK_INVALID', 'The sandbox sends no callbacks.');
  }

  async expire(payment: PaymentRecord): Promise<void> {
    await this.deps.db.sandboxPayment.updateMany({ where: { id: payment.ref, status: 'open' }, data: { status: 'expired' } });
  }

  async refund(payment: PaymentRecord, amountMicros: bigint): Promise<Reversal> {
    const updated = await this.deps.db.sandboxPayment.updateMany({ where: { id: payment.ref, status: 'paid' }, data: { status: 'refunded' } });
    if (updated.count === 0) throw new AppError('TOPUP_NOT_REFUNDABLE', 'This sandbox payment is not paid (or was refunded already).');
    return { id: `refund:${payment.ref}`, kind: 'refund', amount: formatScaled(amountMicros, 6) };
  }
}

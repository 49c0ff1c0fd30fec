import type { PaymentState } from '../../workflows/contracts';

export type ProcessorId = 'stripe' | 'nowpayments' | 'sandbox';
export const PROCESSOR_IDS: readonly ProcessorId[] = ['stripe', 'nowpayments', 'sandbox'];

export interface CreatePaymentInput {
  topupId: string;
  /** What the customer asked to add, USD micros. */
  amountMicros: bigint;
  /** Crypto processors: what the customer pays in (e.g. `usdttrc20`). */
  payCurrency: string | null;
  expiresAt: Date;
  description: string;
  /** Where the customer's browser comes back to (Stripe Checkout). */
  returnUrl: string;
  /** Where the processor posts its callbacks. */
  callbackUrl: string;
}

export interface CreatedPayment {
  ref: string;
  /** The processor's currency for this payment. */
  currency: string;
  /** What the customer is asked to pay, in `currency`, as a decimal string. */
  processorAmount: string;
  /** USD per unit of `currency`: the one conversion of this payment, recorded with it. */
  usdRate: string;
  checkoutUrl: string | null;
  payAddress: string | null;
  expiresAt: Date;
}

/** What a top-up row knows that a status check needs to value the payment. */
export interface PaymentRecord {
  ref: string;
  amountMicros: bigint;
  processorAmount: string | null;
  currency: string;
}

export interface PaymentStatus {
  state: PaymentState;
  /** What arrived, in the processor's currency (decimal string); null while nothing did. */
  paidAmount: string | null;
  /** The USD value of what arrived at the payment's own rate; null while nothing did. */
  valueMicros: bigint | null;
  /** The processor's fee, USD micros, when it says. */
  feeMicros: bigint | null;
  /** The processor's id of the money movement, when refunds and disputes name it rather than the payment (Stripe's payment intent). */
  chargeRef?: string | null;
}

/** A refund or chargeback, keyed by the processor's own id for it so each is applied once. */
export interface Reversal {
  id: string;
  kind: 'refund' | 'chargeback';
  /** What is taken back, in the payment's currency (decimal string); its USD value follows the payment's own rate. */
  amount: string;
}

export interface VerifiedCallback {
  /** The processor's event id, or one derived from the callback's content where it has none (NOWPayments). */
  eventId: string;
  type: string;
  /** The processor's payment reference the callback is about; null when it is about none of ours. */
  ref: string | null;
  reversal: Reversal | null;
  payload: unknown;
}

/**
 * One payment processor. Every method is safe to call again: createPayment with the same top-up
 * id returns the same payment where the processor supports idempotency keys; everything else
 * reads or is keyed.
 */
export interface PaymentProcessor {
  readonly id: ProcessorId;
  readonly kind: 'card' | 'crypto' | 'sandbox';
  /** Crypto: the currencies a customer may pay in. */
  readonly payCurrencies: readonly string[];
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  fetchStatus(payment: PaymentRecord): Promise<PaymentStatus>;
  /** Checks the callback's signature over its exact bytes; throws PAYMENT_CALLBACK_INVALID when it does not verify. */
  verifyCallback(rawBody: Buffer, headers: Record<string, string | undefined>): VerifiedCallback;
  /** Closes an unpaid payment at the processor so it can no longer be paid; a payment already closed is fine. */
  expire(payment: PaymentRecord): Promise<void>;
  /** Refunds (part of) a paid payment; REFUND_UNSUPPORTED where the processor has no API for it. */
  refund(payment: PaymentRecord, amountMicros: bigint): Promise<Reversal>;
}

import { createHmac, timingSafeEqual } from 'node:crypto';
// The official SDK's own declarations of NOWPayments' payloads. Its client is not used: it fixes
// the base URL to https://api.nowpayments.io (so neither NOWPayments' sandbox nor our simulator
// can be reached) and bundles axios 0.21.1; the two calls we need are plain JSON over fetch.
import type { CreatePaymentReturn } from '@nowpaymentsio/nowpayments-api-js/src/actions/create-payment';
import type { GetPaymentStatusReturn } from '@nowpaymentsio/nowpayments-api-js/src/actions/get-payment-status';
import { AppError } from '../lib/errors';
import { formatScaled, mulDiv, scaled } from './amounts';
import type { CreatePaymentInput, CreatedPayment, PaymentProcessor, PaymentRecord, PaymentStatus, Reversal, VerifiedCallback } from './processor';
import type { PaymentState } from '../../workflows/contracts';

export interface NowPaymentsSettings {
  apiKey: string;
  ipnSecret: string;
  apiBase: string;
  payCurrencies: readonly string[];
}

/** What NOWPayments' payment status and IPN carry beyond the SDK's declaration. */
type NpStatus = GetPaymentStatusReturn & {
  actually_paid?: number | string;
  expiration_estimate_date?: string;
  fee?: { currency?: string; depositFee?: number; withdrawalFee?: number; serviceFee?: number };
};

/**
 * NOWPayments' statuses: waiting → confirming (seen on chain, not yet confirmed) → confirmed →
 * sending → finished; partially_paid while too little arrived; expired, failed, refunded.
 */
const STATE: Record<string, PaymentState> = {
  waiting: 'pending',
  confirming: 'confirming',
  confirmed: 'paid',
  sending: 'paid',
  finished: 'paid',
  partially_paid: 'partial',
  expired: 'expired',
  failed: 'failed',
  refunded: 'failed',
};

/** Keys sorted at every depth: what NOWPayments signs its IPN over. */
function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((key) => [key, sortDeep((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/** NOWPayments through its REST API, crypto only: a pay address and amount, IPN callbacks, partial and over-payments. */
export class NowPaymentsProcessor implements PaymentProcessor {
  readonly id = 'nowpayments' as const;
  readonly kind = 'crypto' as const;
  readonly payCurrencies: readonly string[];

  constructor(private readonly settings: NowPaymentsSettings) {
    this.payCurrencies = settings.payCurrencies;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.settings.apiBase}${path}`, {
        method,
        headers: { 'x-api-key': this.settings.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new AppError('PROCESSOR_TRANSIENT', 'NOWPayments did not answer', { processor: 'nowpayments' }, { cause: error });
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // a gateway's HTML error page: judged by the status below
    }
    if (response.status >= 500 || response.status === 429 || json === null) {
      throw new AppError('PROCESSOR_TRANSIENT', `NOWPayments answered ${response.status}`, { processor: 'nowpayments', status: response.status });
    }
    if (response.status >= 400) {
      const message = (json as { message?: string }).message ?? 'refused';
      throw new AppError('PROCESSOR_REJECTED', `NOWPayments refused: ${String(message).slice(0, 200)}`, { processor: 'nowpayments', status: response.status });
    }
    return json as T;
  }

  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    const payCurrency = input.payCurrency ?? this.payCurrencies[0];
    if (!payCurrency || !this.payCurrencies.includes(payCurrency)) throw new AppError('PROCESSOR_UNAVAILABLE', `Pay with one of: ${this.payCurrencies.join(', ')}.`);
    const created = await this.call<CreatePaymentReturn & { expiration_estimate_date?: string }>('POST', '/payment', {
      price_amount: Number(formatScaled(input.amountMicros, 6)),
      price_currency: 'usd',
      pay_currency: payCurrency,
      ipn_callback_url: input.callbackUrl,
      order_id: input.topupId,
      order_description: input.description,
    });
    const payAmount = scaled(created.pay_amount);
    if (payAmount === null || payAmount === 0n || !created.payment_id || !created.pay_address) {
      throw new AppError('PROCESSOR_REJECTED', 'NOWPayments answered without a payment, an address or an amount', { processor: 'nowpayments' });
    }
    // USD per unit of the pay currency, as NOWPayments quoted it for this payment.
    const usdRate = formatScaled(mulDiv(input.amountMicros, 10n ** 30n, payAmount), 18);
    const expires = created.expiration_estimate_date ? new Date(created.expiration_estimate_date) : input.expiresAt;
    return {
      ref: String(created.payment_id),
      currency: payCurrency,
      processorAmount: formatScaled(payAmount, 18),
      usdRate,
      checkoutUrl: null,
      payAddress: created.pay_address,
      // Our own deadline wins when it is sooner: the workflow stops waiting then.
      expiresAt: Number.isNaN(expires.getTime()) || expires > input.expiresAt ? input.expiresAt : expires,
    };
  }

  async fetchStatus(payment: PaymentRecord): Promise<PaymentStatus> {
    return this.statusOf(await this.call<NpStatus>('GET', `/payment/${encodeURIComponent(payment.ref)}`), payment);
  }

  /** Values what arrived at the payment's own quote: amount asked × paid ÷ pay amount, so an over- or under-payment is credited as it is. */
  private statusOf(status: NpStatus, payment: PaymentRecord): PaymentStatus {
    const state = STATE[status.payment_status] ?? 'pending';
    const paid = scaled(status.actually_paid ?? 0) ?? 0n;
    const asked = scaled(payment.processorAmount ?? status.pay_amount);
    const value = (amount: bigint) => (asked ? mulDiv(payment.amountMicros, amount, asked) : 0n);
    const fee = status.fee ? (scaled(status.fee.depositFee ?? 0) ?? 0n) + (scaled(status.fee.serviceFee ?? 0) ?? 0n) + (scaled(status.fee.withdrawalFee ?? 0) ?? 0n) : null;
    return {
      state,
      paidAmount: paid > 0n ? formatScaled(paid, 18) : null,
      valueMicros: paid > 0n ? value(paid) : null,
      feeMicros: fee === null ? null : value(fee),
    };
  }

  verifyCallback(rawBody: Buffer, headers: Record<string, string | undefined>): VerifiedCallback {
    const given = headers['x-nowpayments-sig'] ?? '';
    let body: NpStatus;
    try {
      body = JSON.parse(rawBody.toString('utf8')) as NpStatus;
    } catch {
      throw new AppError('PAYMENT_CALLBACK_INVALID', 'The IPN body is not JSON.');
    }
    const expected = createHmac('sha512', this.settings.ipnSecret).update(JSON.stringify(sortDeep(body))).digest();
    const signature = /^[0-9a-f]{128}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
    if (!body || typeof body !== 'object' || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new AppError('PAYMENT_CALLBACK_INVALID', 'The x-nowpayments-sig does not verify.');
    }
    const ref = body.payment_id === undefined ? null : String(body.payment_id);
    const refunded = body.payment_status === 'refunded';
    const reversal: Reversal | null = refunded && ref ? { id: `refund:${ref}`, kind: 'refund', amount: String(body.actually_paid ?? body.pay_amount) } : null;
    // NOWPayments' IPNs carry no event id: one per payment and status (and amount paid, which grows while partly paid).
    return { eventId: `${ref}:${body.payment_status}:${String(body.actually_paid ?? '')}`, type: String(body.payment_status), ref, reversal, payload: body };
  }

  async expire(): Promise<void> {
    // NOWPayments has no call to close a payment: it expires on its own; the status check that follows says how it ended.
  }

  async refund(): Promise<Reversal> {
    throw new AppError('REFUND_UNSUPPORTED', 'NOWPayments refunds are made in its dashboard; the refunded IPN then debits the wallet.');
  }
}

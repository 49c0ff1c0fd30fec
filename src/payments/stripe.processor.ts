import Stripe from 'stripe';
import { AppError } from '../lib/errors';
import { microsToMinor, minorDigits, minorToMicros } from './amounts';
import type { CreatePaymentInput, CreatedPayment, PaymentProcessor, PaymentRecord, PaymentStatus, Reversal, VerifiedCallback } from './processor';

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** Where the SDK sends its calls (the payment simulator); Stripe's own API when null. */
  apiBase: string | null;
  currency: string;
  usdRate: string;
}

/** The events that tell something about a Checkout Session; the workflow then asks Stripe itself. */
const SESSION_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded', 'checkout.session.async_payment_failed', 'checkout.session.expired']);

/** Stripe's refusals (4xx) are final; everything else (network, 5xx, 429) is worth asking again. */
function processorError(error: unknown, what: string): AppError {
  const stripeError = error as { type?: string; statusCode?: number; message?: string };
  const final = stripeError?.type === 'StripeInvalidRequestError' || stripeError?.type === 'StripeAuthenticationError' || stripeError?.type === 'StripePermissionError' || stripeError?.type === 'StripeCardError';
  return new AppError(final ? 'PROCESSOR_REJECTED' : 'PROCESSOR_TRANSIENT', `Stripe ${what}: ${stripeError?.message ?? 'no answer'}`, { processor: 'stripe', status: stripeError?.statusCode ?? null });
}

/** Stripe Checkout through the official SDK: hosted payment page, signed webhooks, refunds. */
export class StripeProcessor implements PaymentProcessor {
  readonly id = 'stripe' as const;
  readonly kind = 'card' as const;
  readonly payCurrencies: readonly string[] = [];
  private readonly stripe: Stripe;

  constructor(private readonly settings: StripeSettings) {
    const base = settings.apiBase ? new URL(settings.apiBase) : null;
    this.stripe = new Stripe(settings.secretKey, {
      maxNetworkRetries: 2,
      timeout: 15_000,
      telemetry: false,
      ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'http:' ? 'http' : 'https' } : {}),
    });
  }

  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    const { currency, usdRate } = this.settings;
    const minor = microsToMinor(input.amountMicros, usdRate, currency);
    try {
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency, unit_amount: Number(minor), product_data: { name: input.description } } }],
          client_reference_id: input.topupId,
          metadata: { topupId: input.topupId },
          success_url: input.returnUrl,
          cancel_url: input.returnUrl,
          expires_at: Math.floor(input.expiresAt.getTime() / 1000),
        },
        // A retried activity gets the session the lost attempt created, not a second one.
        { idempotencyKey: `simgate-${input.topupId}` },
      );
      return {
        ref: session.id,
        currency,
        processorAmount: formatMinor(BigInt(session.amount_total ?? Number(minor)), currency),
        usdRate,
        checkoutUrl: session.url ?? null,
        payAddress: null,
        expiresAt: new Date(session.expires_at * 1000),
      };
    } catch (error) {
      throw processorError(error, 'refused the checkout session');
    }
  }

  async fetchStatus(payment: PaymentRecord): Promise<PaymentStatus> {
    let session: Stripe.Checkout.Session;
    try {
      session = await this.stripe.checkout.sessions.retrieve(payment.ref, { expand: ['payment_intent.latest_charge.balance_transaction'] });
    } catch (error) {
      throw processorError(error, 'status');
    }
    const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
    if (!paid) return { state: session.status === 'expired' ? 'expired' : 'pending', paidAmount: null, valueMicros: null, feeMicros: null };
    const intent = typeof session.payment_intent === 'object' ? session.payment_intent : null;
    const charge = intent && typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
    const transaction = charge && typeof charge.balance_transaction === 'object' ? charge.balance_transaction : null;
    const amount = BigInt(session.amount_total ?? 0);
    return {
      state: 'paid',
      paidAmount: formatMinor(amount, session.currency ?? payment.currency),
      // Card payments are exact: what was asked is what arrived.
      valueMicros: payment.amountMicros,
      feeMicros: transaction ? minorToMicros(BigInt(transaction.fee), this.settings.usdRate, transaction.currency) : null,
      chargeRef: intent ? `pi:${intent.id}` : typeof session.payment_intent === 'string' ? `pi:${session.payment_intent}` : null,
    };
  }

  verifyCallback(rawBody: Buffer, headers: Record<string, string | undefined>): VerifiedCallback {
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, headers['stripe-signature'] ?? '', this.settings.webhookSecret);
    } catch {
      throw new AppError('PAYMENT_CALLBACK_INVALID', 'The Stripe-Signature does not verify.');
    }
    const object = event.data.object as unknown as Record<string, unknown>;
    if (SESSION_EVENTS.has(event.type)) return { eventId: event.id, type: event.type, ref: String(object.id), reversal: null, payload: event };
    if (event.type === 'refund.created' || event.type === 'charge.dispute.created') {
      // Each refund and each dispute has its own id and amount: keyed by it, each is taken back once, in any order.
      const intent = String(object.payment_intent ?? '');
      const kind = event.type === 'refund.created' ? 'refund' : 'chargeback';
      const reversal: Reversal = { id: `${kind}:${String(object.id)}`, kind, amount: formatMinor(BigInt(Number(object.amount ?? 0)), String(object.currency ?? this.settings.currency)) };
      return { eventId: event.id, type: event.type, ref: intent ? `pi:${intent}` : null, reversal, payload: event };
    }
    return { eventId: event.id, type: event.type, ref: null, reversal: null, payload: { id: event.id, type: event.type } };
  }

  async expire(payment: PaymentRecord): Promise<void> {
    try {
      await this.stripe.checkout.sessions.expire(payment.ref);
    } catch (error) {
      // Already complete or expired: the status check that follows says which.
      if ((error as { type?: string }).type === 'StripeInvalidRequestError') return;
      throw processorError(error, 'expire');
    }
  }

  async refund(payment: PaymentRecord, amountMicros: bigint): Promise<Reversal> {
    const session = await this.stripe.checkout.sessions.retrieve(payment.ref).catch((error: unknown) => {
      throw processorError(error, 'status');
    });
    const intent = typeof session.payment_intent === 'string' ? session.payment_intent : session.payment_intent?.id;
    if (!intent) throw new AppError('TOPUP_NOT_REFUNDABLE', 'This payment was never paid.');
    const whole = BigInt(session.amount_total ?? 0);
    const part = amountMicros >= payment.amountMicros ? whole : (whole * amountMicros) / payment.amountMicros;
    try {
      const refund = await this.stripe.refunds.create({ payment_intent: intent, amount: Number(part) }, { idempotencyKey: `simgate-refund-${payment.ref}-${part}` });
      return { id: `refund:${refund.id}`, kind: 'refund', amount: formatMinor(BigInt(refund.amount), refund.currency) };
    } catch (error) {
      throw processorError(error, 'refused the refund');
    }
  }

  /** The payment intent behind a session, for refunds and disputes that name only it. */
  async intentOf(sessionRef: string): Promise<string | null> {
    const session = await this.stripe.checkout.sessions.retrieve(sessionRef);
    return typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null);
  }
}

function formatMinor(minor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return minor.toString();
  const base = 10n ** BigInt(digits);
  return `${minor / base}.${(minor % base).toString().padStart(digits, '0')}`;
}

/**
 * A payment-processor simulator: Stripe (Checkout Sessions, refunds, signed webhooks) and
 * NOWPayments (payments, status, IPN callbacks signed with HMAC-SHA512 over the sorted body) on
 * one HTTP server, for the real SDKs and our own clients to talk to. Like the provider simulator
 * it shares no code with SimGate: its own amounts, signatures and logger, so a bug of ours cannot
 * cancel itself out over the wire.
 *
 * `/control/...` scripts what a customer and the processor do: pay (fully, partly, too much),
 * let a payment expire, refund, dispute, and how callbacks travel (delayed, duplicated,
 * reordered, dropped, re-sent).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';

export interface PaymentSimulatorOptions {
  stripe: { secretKey: string; webhookSecret: string; webhookUrl?: string | null };
  nowpayments: { apiKey: string; ipnSecret: string };
  /** NOWPayments' rates here: USD per unit of each pay currency (decimal strings). */
  rates?: Record<string, string>;
  /** How long a NOWPayments payment waits for its money (expiration_estimate_date), ms; default 20 minutes. */
  paymentLifetimeMs?: number;
  logger?: Logger;
  /** Base clock, ms (default Date.now). */
  now?: () => number;
}

/** How the callbacks of one scripted step travel. */
export interface Delivery {
  /** Wait before sending, ms. */
  delayMs?: number;
  /** Send each callback this many times (≥ 1). */
  copies?: number;
  /** Send the step's callbacks last first (a processor's retries overtaking each other). */
  reverse?: boolean;
  /** Send nothing: the callback never comes. */
  drop?: boolean;
}

export interface SentCallback {
  id: string;
  processor: 'stripe' | 'nowpayments';
  url: string;
  body: string;
  headers: Record<string, string>;
  status: number | null;
  sentAt: number;
}

interface StripeSession {
  id: string;
  object: 'checkout.session';
  amount_total: number;
  currency: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  payment_intent: string | null;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  url: string | null;
  success_url: string | null;
  cancel_url: string | null;
  expires_at: number;
  created: number;
  livemode: false;
  mode: 'payment';
}

interface StripeCharge {
  id: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  fee: number;
  refunded: number;
}

interface NpPayment {
  payment_id: number;
  payment_status: string;
  pay_address: string;
  price_amount: number;
  price_currency: string;
  pay_amount: number;
  actually_paid: number;
  pay_currency: string;
  order_id: string;
  order_description: string;
  ipn_callback_url: string;
  created_at: string;
  updated_at: string;
  purchase_id: string;
  outcome_amount: number;
  outcome_currency: string;
  network: string;
  expiration_estimate_date: string;
  fee: { currency: string; depositFee: number; withdrawalFee: number; serviceFee: number };
}

export interface PaymentSimulator {
  readonly app: express.Express;
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  readonly sent: readonly SentCallback[];
}

/** Stripe's processing fee here: 2.9 % + 30 cents, in the charge's minor units. */
const stripeFee = (amount: number) => Math.round(amount * 0.029) + 30;
/** NOWPayments' service fee here: 0.5 % of what was paid. */
const NP_SERVICE_FEE = 0.005;
const NETWORKS: Record<string, string> = { usdttrc20: 'trx', usdtbsc: 'bsc', usdterc20: 'eth', btc: 'btc' };

/** Keys sorted at every depth: what NOWPayments signs (its documented `sortObject`). */
function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((key) => [key, sortDeep((value as Record<string, unknown>)[key])]));
  }
  return value;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function createPaymentSimulator(options: PaymentSimulatorOptions): PaymentSimulator {
  const logger = options.logger ?? pino({ name: 'payment-simulator', level: process.env.LOG_LEVEL ?? 'info' });
  const now = options.now ?? Date.now;
  const rates: Record<string, string> = { usdttrc20: '1', usdtbsc: '1', usdterc20: '1', btc: '60000', ...options.rates };
  const sessions = new Map<string, StripeSession>();
  const idempotent = new Map<string, string>();
  const charges = new Map<string, StripeCharge>();
  const payments = new Map<number, NpPayment>();
  const sent: SentCallback[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stripeWebhookUrl = options.stripe.webhookUrl ?? null;
  let baseUrl = '';
  let nextPaymentId = 5_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

  // ── callbacks ──
  function later(ms: number, fn: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  async function post(callback: SentCallback): Promise<void> {
    try {
      const response = await fetch(callback.url, { method: 'POST', headers: { 'content-type': 'application/json', ...callback.headers }, body: callback.body });
      callback.status = response.status;
      await response.arrayBuffer();
    } catch (error) {
      callback.status = 0;
      logger.warn({ err: error, url: callback.url }, 'callback failed');
    }
  }

  /** Sends a step's callbacks as `delivery` says; resolves once all were sent (or at once when delayed). */
  async function deliver(callbacks: SentCallback[], delivery: Delivery = {}): Promise<void> {
    if (delivery.drop || callbacks.length === 0) return;
    const copies = Math.max(1, Math.min(delivery.copies ?? 1, 10));
    const ordered = delivery.reverse ? [...callbacks].reverse() : callbacks;
    const all = ordered.flatMap((callback) => Array.from({ length: copies }, () => ({ ...callback, sentAt: now() })));
    const run = async () => {
      for (const callback of all) {
        sent.push(callback);
        await post(callback);
      }
    };
    if (delivery.delayMs && delivery.delayMs > 0) later(delivery.delayMs, () => void run());
    else await run();
  }

  function stripeEvent(type: string, object: unknown): SentCallback | null {
    if (!stripeWebhookUrl) return null;
    const event = { id: id('evt'), object: 'event', api_version: '2025-01-01', created: Math.floor(now() / 1000), livemode: false, type, data: { object } };
    const body = JSON.stringify(event);
    const t = Math.floor(now() / 1000);
    const v1 = createHmac('sha256', options.stripe.webhookSecret).update(`${t}.${body}`).digest('hex');
    return { id: event.id, processor: 'stripe', url: stripeWebhookUrl, body, headers: { 'stripe-signature': `t=${t},v1=${v1}` }, status: null, sentAt: 0 };
  }

  function ipn(payment: NpPayment): SentCallback | null {
    if (!payment.ipn_callback_url) return null;
    const snapshot = { ...payment, fee: { ...payment.fee } };
    const body = JSON.stringify(snapshot);
    const signature = createHmac('sha512', options.nowpayments.ipnSecret).update(JSON.stringify(sortDeep(snapshot))).digest('hex');
    return { id: `${payment.payment_id}:${payment.payment_status}`, processor: 'nowpayments', url: payment.ipn_callback_url, body, headers: { 'x-nowpayments-sig': signature }, status: null, sentAt: 0 };
  }

  // ── Stripe's API ──
  const stripe = express.Router();
  stripe.use(['/v1/checkout', '/v1/refunds'], express.urlencoded({ extended: true, limit: '64kb' }), (req: Request, res: Response, next: NextFunction) => {
    if (req.get('authorization') !== `Bearer ${options.stripe.secretKey}`) {
      res.status(401).json({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return;
    }
    next();
  });
  const stripeError = (res: Response, status: number, message: string, param?: string) =>
    res.status(status).json({ error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } });

  function expandedSession(session: StripeSession, query: Record<string, unknown>) {
    // `expand[]=…` or `expand[0]=…`, whichever way the query string was parsed.
    const wants = Object.entries(query).filter(([key]) => key.startsWith('expand')).flatMap(([, value]) => (Array.isArray(value) ? value : [value])).map(String);
    if (!session.payment_intent || !wants.some((path) => path.startsWith('payment_intent'))) return session;
    const charge = [...charges.values()].find((c) => c.paymentIntent === session.payment_intent);
    const latestCharge = charge
      ? { id: charge.id, object: 'charge', amount: charge.amount, amount_refunded: charge.refunded, currency: charge.currency, balance_transaction: { id: id('txn'), object: 'balance_transaction', amount: charge.amount, fee: charge.fee, currency: charge.currency } }
      : null;
    return { ...session, payment_intent: { id: session.payment_intent, object: 'payment_intent', amount: session.amount_total, currency: session.currency, status: 'succeeded', latest_charge: latestCharge } };
  }

  stripe.post('/v1/checkout/sessions', (req, res) => {
    const key = req.get('idempotency-key');
    if (key && idempotent.has(key)) return res.json(sessions.get(idempotent.get(key)!));
    const body = req.body as Record<string, any>;
    const item = body.line_items?.[0];
    const amount = Number(item?.price_data?.unit_amount) * Number(item?.quantity ?? 1);
    const currency = String(item?.price_data?.currency ?? '');
    if (body.mode !== 'payment') return stripeError(res, 400, 'mode must be payment', 'mode');
    if (!Number.isSafeInteger(amount) || amount < 50) return stripeError(res, 400, 'Amount must be at least 50 cents', 'line_items[0][price_data][unit_amount]');
    if (!/^[a-z]{3}$/.test(currency)) return stripeError(res, 400, 'Invalid currency', 'line_items[0][price_data][currency]');
    const created = Math.floor(now() / 1000);
    const expiresAt = body.expires_at ? Number(body.expires_at) : created + 86_400;
    if (!Number.isSafeInteger(expiresAt) || expiresAt < created + 1800 - 5 || expiresAt > created + 86_400) {
      return stripeError(res, 400, 'expires_at must be 30 minutes to 24 hours from now', 'expires_at');
    }
    const sessionId = id('cs_test');
    const session: StripeSession = {
      id: sessionId,
      object: 'checkout.session',
      amount_total: amount,
      currency,
      status: 'open',
      payment_status: 'unpaid',
      payment_intent: null,
      client_reference_id: body.client_reference_id ?? null,
      metadata: body.metadata ?? {},
      url: `${baseUrl}/pay/stripe/${sessionId}`,
      success_url: body.success_url ?? null,
      cancel_url: body.cancel_url ?? null,
      expires_at: expiresAt,
      created,
      livemode: false,
      mode: 'payment',
    };
    sessions.set(sessionId, session);
    if (key) idempotent.set(key, sessionId);
    res.json(session);
  });
  stripe.get('/v1/checkout/sessions/:id', (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session) return stripeError(res, 404, `No such checkout.session: '${req.params.id}'`, 'id');
    res.json(expandedSession(session, req.query as Record<string, unknown>));
  });
  stripe.post('/v1/checkout/sessions/:id/expire', (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session) return stripeError(res, 404, `No such checkout.session: '${req.params.id}'`, 'id');
    if (session.status !== 'open') return stripeError(res, 400, `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`);
    session.status = 'expired';
    const event = stripeEvent('checkout.session.expired', session);
    void deliver(event ? [event] : []);
    res.json(session);
  });
  stripe.post('/v1/refunds', (req, res) => {
    const body = req.body as Record<string, string>;
    const charge = [...charges.values()].find((c) => c.paymentIntent === body.payment_intent);
    if (!charge) return stripeError(res, 404, `No such payment_intent: '${body.payment_intent}'`, 'payment_intent');
    const amount = body.amount === undefined ? charge.amount - charge.refunded : Number(body.amount);
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > charge.amount - charge.refunded) return stripeError(res, 400, 'Refund amount is greater than unrefunded amount', 'amount');
    charge.refunded += amount;
    const refund = { id: id('re'), object: 'refund', amount, charge: charge.id, currency: charge.currency, payment_intent: charge.paymentIntent, status: 'succeeded' };
    const event = stripeEvent('refund.created', refund);
    void deliver(event ? [event] : []);
    res.json(refund);
  });

  // ── NOWPayments' API ──
  const np = express.Router();
  np.use('/v1/payment', express.json({ limit: '64kb' }), (req: Request, res: Response, next: NextFunction) => {
    if (req.get('x-api-key') !== options.nowpayments.apiKey) {
      res.status(403).json({ status: false, statusCode: 403, code: 'INVALID_API_KEY', message: 'Invalid api key' });
      return;
    }
    next();
  });
  const npError = (res: Response, status: number, code: string, message: string) => res.status(status).json({ status: false, statusCode: status, code, message });
  np.get('/v1/status', (_req, res) => res.json({ message: 'OK' }));
  np.post('/v1/payment', (req, res) => {
    const body = req.body as Record<string, unknown>;
    const price = Number(body.price_amount);
    const payCurrency = String(body.pay_currency ?? '').toLowerCase();
    if (!Number.isFinite(price) || price <= 0) return npError(res, 400, 'INVALID_REQUEST_PARAMS', 'price_amount must be a positive number');
    if (String(body.price_currency ?? '').toLowerCase() !== 'usd') return npError(res, 400, 'INVALID_REQUEST_PARAMS', 'price_currency must be usd here');
    if (!rates[payCurrency]) return npError(res, 400, 'INVALID_REQUEST_PARAMS', `pay_currency ${payCurrency} is not supported`);
    const payAmount = round(price / Number(rates[payCurrency]), payCurrency === 'btc' ? 8 : 6);
    const at = new Date(now()).toISOString();
    const payment: NpPayment = {
      payment_id: nextPaymentId++,
      payment_status: 'waiting',
      pay_address: payCurrency === 'btc' ? `bc1q${randomBytes(19).toString('hex')}` : `T${randomBytes(16).toString('hex').slice(0, 33)}`,
      price_amount: price,
      price_currency: 'usd',
      pay_amount: payAmount,
      actually_paid: 0,
      pay_currency: payCurrency,
      order_id: String(body.order_id ?? ''),
      order_description: String(body.order_description ?? ''),
      ipn_callback_url: String(body.ipn_callback_url ?? ''),
      created_at: at,
      updated_at: at,
      purchase_id: String(nextPaymentId * 7),
      outcome_amount: 0,
      outcome_currency: payCurrency,
      network: NETWORKS[payCurrency] ?? payCurrency,
      expiration_estimate_date: new Date(now() + (options.paymentLifetimeMs ?? 20 * 60_000)).toISOString(),
      fee: { currency: payCurrency, depositFee: 0, withdrawalFee: 0, serviceFee: 0 },
    };
    payments.set(payment.payment_id, payment);
    const { actually_paid: _a, outcome_amount: _o, fee: _f, ...created } = payment;
    res.status(201).json(created);
  });
  np.get('/v1/payment/:id', (req, res) => {
    const payment = payments.get(Number(req.params.id));
    if (!payment) return npError(res, 404, 'PAYMENT_NOT_FOUND', 'Payment not found');
    res.json(payment);
  });

  // ── control ──
  const control = express.Router();
  control.use(express.json({ limit: '16kb' }));
  control.patch('/settings', (req, res) => {
    if ('stripeWebhookUrl' in req.body) stripeWebhookUrl = req.body.stripeWebhookUrl;
    res.json({ stripeWebhookUrl });
  });
  control.get('/callbacks', (_req, res) => res.json({ callbacks: sent }));
  /** Sends a callback again exactly as it was (a processor's retry, or a replay attack with a valid signature). */
  control.post('/callbacks/:id/resend', async (req, res) => {
    const callback = [...sent].reverse().find((c) => c.id === req.params.id);
    if (!callback) return res.status(404).json({ error: 'no such callback' });
    await deliver([callback], req.body as Delivery);
    res.json({ ok: true });
  });
  control.post('/stripe/sessions/:id/pay', async (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session) return res.status(404).json({ error: 'no such session' });
    if (session.status !== 'open') return res.status(409).json({ error: `session is ${session.status}` });
    session.status = 'complete';
    session.payment_status = 'paid';
    session.payment_intent = id('pi');
    const charge: StripeCharge = { id: id('ch'), paymentIntent: session.payment_intent, amount: session.amount_total, currency: session.currency, fee: stripeFee(session.amount_total), refunded: 0 };
    charges.set(charge.id, charge);
    const event = stripeEvent('checkout.session.completed', session);
    await deliver(event ? [event] : [], req.body as Delivery);
    res.json({ session, chargeId: charge.id });
  });
  control.post('/stripe/sessions/:id/expire', async (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session) return res.status(404).json({ error: 'no such session' });
    if (session.status !== 'open') return res.status(409).json({ error: `session is ${session.status}` });
    session.status = 'expired';
    const event = stripeEvent('checkout.session.expired', session);
    await deliver(event ? [event] : [], req.body as Delivery);
    res.json({ session });
  });
  /** A chargeback: the customer's bank takes the money back (`amount` minor units, default all). */
  control.post('/stripe/sessions/:id/dispute', async (req, res) => {
    const session = sessions.get(String(req.params.id));
    const charge = session && [...charges.values()].find((c) => c.paymentIntent === session.payment_intent);
    if (!charge) return res.status(404).json({ error: 'no charge for this session' });
    const amount = Number(req.body.amount ?? charge.amount);
    const dispute = { id: id('dp'), object: 'dispute', amount, charge: charge.id, currency: charge.currency, payment_intent: charge.paymentIntent, reason: 'fraudulent', status: 'needs_response' };
    const event = stripeEvent('charge.dispute.created', dispute);
    await deliver(event ? [event] : [], req.body as Delivery);
    res.json({ dispute });
  });
  /**
   * The customer sends `amount` (default what was asked) to the payment's address: the IPNs go
   * confirming → confirmed → finished, or end at partially_paid when too little came.
   */
  control.post('/nowpayments/payments/:id/pay', async (req, res) => {
    const payment = payments.get(Number(req.params.id));
    if (!payment) return res.status(404).json({ error: 'no such payment' });
    // An expired payment still receives what a customer sends to its address: NOWPayments processes it late.
    if (!['waiting', 'partially_paid', 'expired'].includes(payment.payment_status)) return res.status(409).json({ error: `payment is ${payment.payment_status}` });
    const digits = payment.pay_currency === 'btc' ? 8 : 6;
    const paid = round(payment.actually_paid + Number(req.body.amount ?? payment.pay_amount - payment.actually_paid), digits);
    const steps = paid + 1e-12 < payment.pay_amount ? ['partially_paid'] : ['confirming', 'confirmed', 'sending', 'finished'];
    const callbacks: SentCallback[] = [];
    for (const status of steps) {
      payment.payment_status = status;
      payment.actually_paid = paid;
      payment.updated_at = new Date(now()).toISOString();
      if (status === 'finished' || status === 'partially_paid') {
        const serviceFee = round(paid * NP_SERVICE_FEE, digits);
        payment.fee = { currency: payment.pay_currency, depositFee: 0, withdrawalFee: 0, serviceFee };
        payment.outcome_amount = round(paid - serviceFee, digits);
      }
      const callback = ipn(payment);
      if (callback) callbacks.push(callback);
    }
    await deliver(callbacks, req.body as Delivery);
    res.json({ payment });
  });
  control.post('/nowpayments/payments/:id/expire', async (req, res) => {
    const payment = payments.get(Number(req.params.id));
    if (!payment) return res.status(404).json({ error: 'no such payment' });
    if (payment.payment_status !== 'waiting') return res.status(409).json({ error: `payment is ${payment.payment_status}` });
    payment.payment_status = 'expired';
    payment.updated_at = new Date(now()).toISOString();
    const callback = ipn(payment);
    await deliver(callback ? [callback] : [], req.body as Delivery);
    res.json({ payment });
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/control', control);
  // A customer's browser at the hosted checkout page: one button that pays.
  app.get('/pay/stripe/:id', (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session) return res.status(404).send('No such checkout session');
    res.type('html').send(`<!doctype html><title>Checkout (simulated Stripe)</title><h1>Pay ${(session.amount_total / 100).toFixed(2)} ${session.currency.toUpperCase()}</h1>
<p>Status: ${session.status}</p><form method="post" action="/pay/stripe/${session.id}"><button>Pay</button></form>`);
  });
  app.post('/pay/stripe/:id', async (req, res) => {
    const session = sessions.get(String(req.params.id));
    if (!session || session.status !== 'open') return res.status(409).send('This checkout session is not open');
    const paid = await fetch(`${baseUrl}/control/stripe/sessions/${session.id}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await paid.arrayBuffer();
    res.redirect(303, session.success_url ?? `${baseUrl}/pay/stripe/${session.id}`);
  });
  app.use(stripe);
  app.use(np);

  let server: Server | null = null;
  return {
    app,
    sent,
    async listen(port, host = '127.0.0.1') {
      const listening = app.listen(port, host);
      server = listening;
      await once(listening, 'listening');
      const actual = (listening.address() as AddressInfo).port;
      baseUrl = `http://${host}:${actual}`;
      logger.info({ port: actual }, 'payment simulator listening');
      return { url: baseUrl, port: actual };
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closing = server;
      server = null;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve, reject) => closing.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

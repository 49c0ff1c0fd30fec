import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { createPaymentSimulator, type PaymentSimulator } from '../../src/payment-simulator';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';

/**
 * Top-ups over real HTTP: the API, the worker running topupWorkflow, and the payment simulator
 * standing in for Stripe (through the official SDK) and NOWPayments, with their callbacks
 * duplicated, delayed, reordered, forged and dropped. After each case the wallet invariants hold.
 */
const STRIPE = { secretKey: 'sk_test_simgate_simulated', webhookSecret: 'whsec_simgate_simulated' };
const NOWPAYMENTS = { apiKey: 'np-sim-key', ipnSecret: 'np-sim-ipn-secret' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let system: TestSystem;
let processor: PaymentSimulator;
let simUrl: string;

beforeAll(async () => {
  processor = createPaymentSimulator({ stripe: STRIPE, nowpayments: NOWPAYMENTS, rates: { usdttrc20: '1', btc: '50000' }, logger: (await import('pino')).default({ level: 'silent' }) });
  simUrl = (await processor.listen(0)).url;
  const apiPort = await freePort();
  system = await startSystem({
    apiPort,
    env: {
      STRIPE_SECRET_KEY: STRIPE.secretKey,
      STRIPE_WEBHOOK_SECRET: STRIPE.webhookSecret,
      STRIPE_API_BASE: simUrl,
      NOWPAYMENTS_API_KEY: NOWPAYMENTS.apiKey,
      NOWPAYMENTS_IPN_SECRET: NOWPAYMENTS.ipnSecret,
      NOWPAYMENTS_API_BASE: `${simUrl}/v1`,
      NOWPAYMENTS_PAY_CURRENCIES: 'usdttrc20,btc',
      PAYMENTS_CALLBACK_URL: `http://127.0.0.1:${apiPort}`,
      PAYMENTS_SANDBOX: 'true',
      // Callbacks come first in most cases; the workflow's own polls carry those whose callback never comes.
      TOPUP_POLL_INITIAL_MS: '1500',
      TOPUP_POLL_MAX_MS: '3000',
      TOPUP_DAILY_MAX_MICROS: '500000000',
    },
  });
  await control('PATCH', '/settings', { stripeWebhookUrl: `${system.api.url}/webhooks/payments/stripe` });
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await processor?.close();
});

async function control(method: string, path: string, body: unknown = {}) {
  const response = await fetch(`${simUrl}/control${path}`, method === 'GET' ? {} : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as any;
}

async function topup(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return system.request('POST', '/api/payments/topups', { token, body, headers });
}

/** Waits until the workflow created the processor's payment. */
async function awaiting(token: string, id: string) {
  return waitFor(async () => {
    const { body } = await system.request('GET', `/api/payments/topups/${id}`, { token });
    return body.topup.status === 'AWAITING_PAYMENT' ? body.topup : null;
  }, { timeoutMs: 20_000 });
}

async function settled(token: string, id: string) {
  return waitFor(async () => {
    const { body } = await system.request('GET', `/api/payments/topups/${id}`, { token });
    return ['CREDITED', 'EXPIRED', 'FAILED'].includes(body.topup.status) ? body.topup : null;
  }, { timeoutMs: 30_000 });
}

async function balance(token: string): Promise<bigint> {
  const { body } = await system.request('GET', '/api/wallet', { token });
  return BigInt(body.wallet.availableMicros);
}

async function ledger(token: string) {
  const { body } = await system.request('GET', '/api/wallet', { token });
  return body.ledger as { kind: string; availableDelta: string; memo: string }[];
}

async function expectInvariants(userId: string) {
  expect(await system.container.wallet.checkInvariants(userId)).toEqual([]);
}

const creditEntries = async (token: string) => (await ledger(token)).filter((e) => e.kind === 'CREDIT');

describe('Stripe Checkout through the SDK', () => {
  it('credits once however many duplicate webhooks arrive, with the fee recorded', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '10000000', processor: 'stripe' });
    expect(created.status).toBe(201);
    const open = await awaiting(customer.token, created.body.topup.id);
    expect(open.checkoutUrl).toContain('/pay/stripe/cs_test_');
    expect(open.processorAmount).toBe('10.00');
    expect(open.usdRate).toBe('1');

    await control('POST', `/stripe/sessions/${open.checkoutUrl.split('/').pop()}/pay`, { copies: 4 });
    const done = await settled(customer.token, open.id);
    expect(done.status).toBe('CREDITED');
    expect(done.creditedMicros).toBe('10000000');
    // 2.9 % + 30 cents of $10.00
    expect(done.feeMicros).toBe('590000');
    expect(await balance(customer.token)).toBe(10_000_000n);
    expect(await creditEntries(customer.token)).toHaveLength(1);

    // The same signed webhook replayed later (a retry, or an attacker who recorded it) changes nothing.
    const sent = (await control('GET', '/callbacks')).callbacks.filter((c: any) => c.body.includes(open.checkoutUrl.split('/').pop()));
    await control('POST', `/callbacks/${sent[0].id}/resend`, { copies: 2 });
    expect(await balance(customer.token)).toBe(10_000_000n);
    await expectInvariants(customer.id);
  });

  it('refuses a forged webhook and credits nothing from it', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '5000000', processor: 'stripe' });
    const open = await awaiting(customer.token, created.body.topup.id);
    const sessionId = open.checkoutUrl.split('/').pop();
    const forged = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'checkout.session.completed', data: { object: { id: sessionId, payment_status: 'paid' } } });
    const t = Math.floor(Date.now() / 1000);
    const badSig = createHmac('sha256', 'whsec_wrong').update(`${t}.${forged}`).digest('hex');
    const response = await fetch(`${system.api.url}/webhooks/payments/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${badSig}` }, body: forged });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe('PAYMENT_CALLBACK_INVALID');
    const unsigned = await fetch(`${system.api.url}/webhooks/payments/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged });
    expect(unsigned.status).toBe(400);
    // Even a well-signed event for an unpaid session credits nothing: the workflow asks Stripe.
    const { body } = await system.request('GET', `/api/payments/topups/${open.id}`, { token: customer.token });
    expect(body.topup.status).toBe('AWAITING_PAYMENT');
    expect(await balance(customer.token)).toBe(0n);
    await expectInvariants(customer.id);
  });

  it('acknowledges a signed webhook for a payment that is not ours, and changes nothing', async () => {
    const body = JSON.stringify({ id: 'evt_unknown_1', object: 'event', type: 'checkout.session.completed', data: { object: { id: 'cs_test_not_ours', object: 'checkout.session' } } });
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', STRIPE.webhookSecret).update(`${t}.${body}`).digest('hex');
    const response = await fetch(`${system.api.url}/webhooks/payments/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` }, body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, matched: false, duplicate: false });
  });

  it('debits a chargeback with a ledger entry, and what the wallet no longer has is an incident', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '20000000', processor: 'stripe' });
    const open = await awaiting(customer.token, created.body.topup.id);
    const sessionId = open.checkoutUrl.split('/').pop();
    await control('POST', `/stripe/sessions/${sessionId}/pay`);
    await settled(customer.token, open.id);
    // The customer spends most of it (a hold captured elsewhere is simulated by an admin-free debit path: a purchase).
    await system.container.wallet.hold({ userId: customer.id, key: `spend-${open.id}`, amountMicros: 15_000_000n });
    await system.container.wallet.capture({ key: `spend-${open.id}`, amountMicros: 15_000_000n });

    await control('POST', `/stripe/sessions/${sessionId}/dispute`, { copies: 2 });
    const after = await waitFor(async () => {
      const { body } = await system.request('GET', `/api/payments/topups/${open.id}`, { token: customer.token });
      return body.topup.reversedMicros !== '0' ? body.topup : null;
    }, { timeoutMs: 10_000 });
    expect(after.reversedMicros).toBe('5000000');
    expect(await balance(customer.token)).toBe(0n);
    expect((await ledger(customer.token)).filter((e) => e.kind === 'DEBIT')).toEqual([expect.objectContaining({ availableDelta: '-5000000', memo: 'Chargeback of top-up via stripe' })]);
    const incidents = await system.container.db.upstreamIncident.findMany({ where: { kind: 'PAYMENT_SHORTFALL', providerId: 'stripe', upstreamId: { startsWith: open.id } } });
    expect(incidents).toHaveLength(1);
    expect(incidents[0].details).toMatchObject({ shortfallMicros: '15000000' });
    await expectInvariants(customer.id);
  });

  it('an admin refund goes through Stripe and debits the wallet once', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '8000000', processor: 'stripe' });
    const open = await awaiting(customer.token, created.body.topup.id);
    await control('POST', `/stripe/sessions/${open.checkoutUrl.split('/').pop()}/pay`);
    await settled(customer.token, open.id);
    const refunded = await system.request('POST', `/api/admin/payments/${open.id}/refund`, { token: system.adminToken, body: { amountMicros: '3000000' } });
    expect(refunded.status).toBe(200);
    expect(refunded.body.topup.reversedMicros).toBe('3000000');
    // Stripe's refund.created webhook for the same refund arrives, and finds it done.
    await waitFor(async () => (await control('GET', '/callbacks')).callbacks.some((c: any) => c.body.includes('refund.created') && c.status === 200), { timeoutMs: 10_000 });
    expect(await balance(customer.token)).toBe(5_000_000n);
    await expectInvariants(customer.id);
  });
});

describe('NOWPayments (crypto)', () => {
  async function cryptoTopup(token: string, amount: string, extra: Record<string, unknown> = {}) {
    const created = await topup(token, { amountMicros: amount, processor: 'nowpayments', payCurrency: 'usdttrc20', ...extra });
    expect(created.status).toBe(201);
    const open = await awaiting(token, created.body.topup.id);
    const { body } = await system.request('GET', `/api/payments/topups/${open.id}`, { token });
    return body.topup;
  }
  const paymentIdOf = async (topupId: string) => (await system.container.db.topup.findUniqueOrThrow({ where: { id: topupId } })).processorRef!;

  it('shows an address, amount and QR code; reordered IPNs credit once, at the recorded rate', async () => {
    const customer = await system.customer(0n);
    const open = await cryptoTopup(customer.token, '25000000');
    expect(open.payAddress).toMatch(/^T/);
    expect(open.processorAmount).toBe('25');
    expect(open.qrSvg).toContain('<svg');
    await control('POST', `/nowpayments/payments/${await paymentIdOf(open.id)}/pay`, { reverse: true, copies: 2 });
    const done = await settled(customer.token, open.id);
    expect(done.status).toBe('CREDITED');
    expect(done.creditedMicros).toBe('25000000');
    expect(done.feeMicros).toBe('125000'); // 0.5 % service fee, valued at the payment's rate
    expect(await balance(customer.token)).toBe(25_000_000n);
    expect(await creditEntries(customer.token)).toHaveLength(1);
    await expectInvariants(customer.id);
  });

  it('refuses an IPN whose HMAC-SHA512 does not match the sorted body', async () => {
    const customer = await system.customer(0n);
    const open = await cryptoTopup(customer.token, '5000000');
    const paymentId = await paymentIdOf(open.id);
    const body = { payment_id: Number(paymentId), payment_status: 'finished', actually_paid: 5, pay_amount: 5 };
    const wrong = createHmac('sha512', 'not-the-secret').update(JSON.stringify(body)).digest('hex');
    const response = await fetch(`${system.api.url}/webhooks/payments/nowpayments`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-nowpayments-sig': wrong }, body: JSON.stringify(body) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe('PAYMENT_CALLBACK_INVALID');
    expect(await balance(customer.token)).toBe(0n);
  });

  it('credits an over-payment as paid, and a late IPN after the credit changes nothing', async () => {
    const customer = await system.customer(0n);
    const open = await cryptoTopup(customer.token, '10000000');
    await control('POST', `/nowpayments/payments/${await paymentIdOf(open.id)}/pay`, { amount: 12 });
    const done = await settled(customer.token, open.id);
    expect(done.creditedMicros).toBe('12000000');
    const paymentId = await paymentIdOf(open.id);
    const late = (await control('GET', '/callbacks')).callbacks.filter((c: any) => c.id.startsWith(`${paymentId}:`));
    for (const callback of late) await control('POST', `/callbacks/${callback.id}/resend`, { delayMs: 0 });
    expect(await balance(customer.token)).toBe(12_000_000n);
    await expectInvariants(customer.id);
  });

  it('credits a payment that arrives after the top-up expired, once, without the coupon bonus', async () => {
    const code = `LATE${Date.now()}`;
    await system.request('POST', '/api/admin/coupons', { token: system.adminToken, body: { code, kind: 'FIXED', value: '500000', maxUses: 5 } });
    const customer = await system.customer(0n);
    const open = await cryptoTopup(customer.token, '6000000', { couponCode: code });
    const paymentId = await paymentIdOf(open.id);
    await control('POST', `/nowpayments/payments/${paymentId}/expire`);
    expect((await settled(customer.token, open.id)).status).toBe('EXPIRED');
    await control('POST', `/nowpayments/payments/${paymentId}/pay`, { copies: 2 });
    const late = await waitFor(async () => {
      const { body } = await system.request('GET', `/api/payments/topups/${open.id}`, { token: customer.token });
      return body.topup.status === 'CREDITED' ? body.topup : null;
    }, { timeoutMs: 10_000 });
    expect(late).toMatchObject({ creditedMicros: '6000000', bonusMicros: '0', failureReason: 'paid after it expired' });
    expect(await balance(customer.token)).toBe(6_000_000n);
    expect(await creditEntries(customer.token)).toHaveLength(1);
    await expectInvariants(customer.id);
  });

  it('waits while a payment is partial, then credits once the rest arrives', async () => {
    const customer = await system.customer(0n);
    const open = await cryptoTopup(customer.token, '10000000');
    const paymentId = await paymentIdOf(open.id);
    await control('POST', `/nowpayments/payments/${paymentId}/pay`, { amount: 4 });
    const partial = await waitFor(async () => {
      const { body } = await system.request('GET', `/api/payments/topups/${open.id}`, { token: customer.token });
      return body.topup.paidAmount ? body.topup : null;
    }, { timeoutMs: 10_000 });
    expect(partial).toMatchObject({ status: 'AWAITING_PAYMENT', paidAmount: '4' });
    expect(await balance(customer.token)).toBe(0n);
    await control('POST', `/nowpayments/payments/${paymentId}/pay`, { amount: 6 });
    const done = await settled(customer.token, open.id);
    expect(done.creditedMicros).toBe('10000000');
    expect(await balance(customer.token)).toBe(10_000_000n);
    await expectInvariants(customer.id);
  });
});

describe('callbacks that never come', () => {
  it('the workflow asks Stripe itself and credits', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '7000000', processor: 'stripe' });
    const open = await awaiting(customer.token, created.body.topup.id);
    await control('POST', `/stripe/sessions/${open.checkoutUrl.split('/').pop()}/pay`, { drop: true });
    const done = await settled(customer.token, open.id);
    expect(done.status).toBe('CREDITED');
    expect(await balance(customer.token)).toBe(7_000_000n);
    await expectInvariants(customer.id);
  });

  it('and asks NOWPayments itself too', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '3000000', processor: 'nowpayments', payCurrency: 'btc' });
    const open = await awaiting(customer.token, created.body.topup.id);
    expect(open.processorAmount).toBe('0.00006');
    const paymentId = (await system.container.db.topup.findUniqueOrThrow({ where: { id: open.id } })).processorRef!;
    await control('POST', `/nowpayments/payments/${paymentId}/pay`, { drop: true });
    const done = await settled(customer.token, open.id);
    expect(done.creditedMicros).toBe('3000000');
    // Not one IPN reached us: the credit came from the workflow's own status checks.
    const held = (await control('GET', '/callbacks')).callbacks.filter((c: any) => c.id.startsWith(`${paymentId}:`));
    expect(held).toHaveLength(0);
    expect(await balance(customer.token)).toBe(3_000_000n);
    await expectInvariants(customer.id);
  });
});

describe('sandbox, limits and coupons', () => {
  it('the sandbox pays with a button and credits once', async () => {
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '5000000', processor: 'sandbox' });
    const open = await awaiting(customer.token, created.body.topup.id);
    const [a, b] = await Promise.all([
      system.request('POST', `/api/payments/topups/${open.id}/sandbox-pay`, { token: customer.token }),
      system.request('POST', `/api/payments/topups/${open.id}/sandbox-pay`, { token: customer.token }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const done = await settled(customer.token, open.id);
    expect(done.status).toBe('CREDITED');
    expect(await balance(customer.token)).toBe(5_000_000n);
    expect((await ledger(customer.token))[0]).toMatchObject({ kind: 'CREDIT', memo: 'Top-up via sandbox' });
    await expectInvariants(customer.id);
  });

  it('refuses amounts outside the limits and past the daily limit, with clear codes', async () => {
    const customer = await system.customer(0n);
    expect((await topup(customer.token, { amountMicros: '10', processor: 'sandbox' })).body.error.code).toBe('TOPUP_BELOW_MINIMUM');
    expect((await topup(customer.token, { amountMicros: '2000000000', processor: 'sandbox' })).body.error.code).toBe('TOPUP_ABOVE_MAXIMUM');
    expect((await topup(customer.token, { amountMicros: '400000000', processor: 'sandbox' })).status).toBe(201);
    const over = await topup(customer.token, { amountMicros: '200000000', processor: 'sandbox' });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('TOPUP_DAILY_LIMIT');
    expect((await topup(customer.token, { amountMicros: '5000000', processor: 'paypal' })).status).toBe(400);
    expect((await topup(customer.token, { amountMicros: '5000000', processor: 'sandbox', couponCode: 'BAD\u0000' })).body.error.code).toBe('INVALID_TEXT');
  });

  it('the same Idempotency-Key returns the same top-up', async () => {
    const customer = await system.customer(0n);
    const headers = { 'Idempotency-Key': 'topup-key-0001' };
    const [a, b] = await Promise.all([topup(customer.token, { amountMicros: '5000000', processor: 'sandbox' }, headers), topup(customer.token, { amountMicros: '5000000', processor: 'sandbox' }, headers)]);
    expect(a.body.topup.id).toBe(b.body.topup.id);
    expect((await topup(customer.token, { amountMicros: '6000000', processor: 'sandbox' }, headers)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('a single-use coupon redeemed twice at once goes to exactly one top-up, and its bonus is credited', async () => {
    const code = `ONCE${Date.now()}`;
    const made = await system.request('POST', '/api/admin/coupons', { token: system.adminToken, body: { code, kind: 'PERCENT', value: '1000', maxUses: 1, perCustomerLimit: 1 } });
    expect(made.status).toBe(201);
    const [first, second] = await Promise.all([system.customer(0n), system.customer(0n)]);
    const results = await Promise.all([
      topup(first.token, { amountMicros: '10000000', processor: 'sandbox', couponCode: code.toLowerCase() }),
      topup(second.token, { amountMicros: '10000000', processor: 'sandbox', couponCode: code }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe('COUPON_EXHAUSTED');
    const winner = results[0].status === 201 ? first : second;
    const won = results.find((r) => r.status === 201)!.body.topup;
    expect(won.bonusMicros).toBe('1000000');
    await awaiting(winner.token, won.id);
    await system.request('POST', `/api/payments/topups/${won.id}/sandbox-pay`, { token: winner.token });
    await settled(winner.token, won.id);
    expect(await balance(winner.token)).toBe(11_000_000n);
    const coupon = await system.container.db.coupon.findUniqueOrThrow({ where: { code } });
    expect(coupon.uses).toBe(1);
    await expectInvariants(winner.id);
  });

  it('a per-customer limit holds across concurrent top-ups of one customer', async () => {
    const code = `MULTI${Date.now()}`;
    await system.request('POST', '/api/admin/coupons', { token: system.adminToken, body: { code, kind: 'FIXED', value: '500000', maxUses: 100, perCustomerLimit: 1 } });
    const customer = await system.customer(0n);
    const results = await Promise.all([1, 2, 3].map(() => topup(customer.token, { amountMicros: '5000000', processor: 'sandbox', couponCode: code })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'COUPON_LIMIT_REACHED')).toBe(true);
  });

  it('an unpaid top-up expires, credits nothing and gives its coupon use back', async () => {
    const code = `EXP${Date.now()}`;
    await system.request('POST', '/api/admin/coupons', { token: system.adminToken, body: { code, kind: 'FIXED', value: '500000', maxUses: 1 } });
    const customer = await system.customer(0n);
    const created = await topup(customer.token, { amountMicros: '5000000', processor: 'stripe', couponCode: code });
    const open = await awaiting(customer.token, created.body.topup.id);
    await control('POST', `/stripe/sessions/${open.checkoutUrl.split('/').pop()}/expire`);
    const done = await settled(customer.token, open.id);
    expect(done.status).toBe('EXPIRED');
    expect(await balance(customer.token)).toBe(0n);
    expect((await system.container.db.coupon.findUniqueOrThrow({ where: { code } })).uses).toBe(0);
  });

  it('admins list payments with status, processor, amounts and fees', async () => {
    const { status, body } = await system.request('GET', '/api/admin/payments?processor=stripe&status=CREDITED', { token: system.adminToken });
    expect(status).toBe(200);
    expect(body.payments.length).toBeGreaterThan(0);
    expect(body.payments[0]).toEqual(expect.objectContaining({ processor: 'stripe', status: 'CREDITED', amountMicros: expect.any(String), feeMicros: expect.any(String) }));
    const customer = await system.customer(0n);
    expect((await system.request('GET', '/api/admin/payments', { token: customer.token })).status).toBe(403);
  });
});

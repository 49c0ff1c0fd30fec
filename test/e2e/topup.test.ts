import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { createPaymentSimulator, type PaymentSimulator } from '../../src/payment-simulator';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { assertUiBuilt, DESKTOP, PageSet, screenshot } from './browser';

/**
 * A new customer funds their own wallet and buys, with no admin: sign up → the Top up page
 * (reached as the insufficient-funds error links to it) → pay with the sandbox processor → the
 * balance shows the credit → buy a number. Real Chromium, the production build, the whole back end.
 */
jest.setTimeout(90_000);

let system: TestSystem;
let pages: PageSet;
let processors: PaymentSimulator;
let processorsUrl: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  assertUiBuilt();
  processors = createPaymentSimulator({ stripe: { secretKey: 'sk_test_e2e', webhookSecret: 'whsec_e2e' }, nowpayments: { apiKey: 'np-e2e', ipnSecret: 'np-e2e-ipn' }, logger: pino({ level: 'silent' }) });
  processorsUrl = (await processors.listen(0)).url;
  const apiPort = await freePort();
  const env = {
    PAYMENTS_SANDBOX: 'true',
    TOPUP_POLL_INITIAL_MS: '1000',
    TOPUP_POLL_MAX_MS: '2000',
    NOWPAYMENTS_API_KEY: 'np-e2e',
    NOWPAYMENTS_IPN_SECRET: 'np-e2e-ipn',
    NOWPAYMENTS_API_BASE: `${processorsUrl}/v1`,
    NOWPAYMENTS_PAY_CURRENCIES: 'usdttrc20,btc',
    PAYMENTS_CALLBACK_URL: `http://127.0.0.1:${apiPort}`,
  };
  [system, pages] = await Promise.all([startSystem({ serveUi: true, apiPort, env }), PageSet.launch()]);
});

afterAll(async () => {
  await pages?.close();
  await system?.stop();
  await processors?.close();
});

async function signUp(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('auth-toggle').click();
  await page.getByLabel('Email').fill(`topup-${randomUUID()}@simgate.test`);
  await page.getByLabel('Password').fill('customer-password');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
}

it('signs up, tops up with the sandbox and buys a number', async () => {
  const page = await pages.open(system.api.url, DESKTOP);

  await signUp(page);
  await waitFor(async () => (await page.getByTestId('header-balance').textContent()) === '$0.00');

  // Where the insufficient-funds error sends the customer: the missing amount is said and proposed.
  await page.goto('/#/wallet/topup?missing=440000');
  await expect(page.getByTestId('topup-missing').textContent()).resolves.toContain('$0.44');
  await expect(page.getByTestId('topup-amount').inputValue()).resolves.toBe('1');
  await page.getByTestId('topup-amount').fill('5');
  await page.getByTestId('processor-sandbox').check();
  await screenshot(page, 'topup-form');
  await page.getByTestId('topup-submit').click();

  await page.getByTestId('sandbox-pay').click();
  await waitFor(async () => (await page.getByTestId('topup-status').getAttribute('data-status')) === 'CREDITED', { timeoutMs: 20_000 });
  await screenshot(page, 'topup-credited');
  await waitFor(async () => (await page.getByTestId('header-balance').textContent()) === '$5.00', { timeoutMs: 10_000 });

  // The ledger shows the top-up.
  await page.goto('/#/wallet');
  const row = page.getByTestId('ledger-row').first();
  await expect(row.getAttribute('data-kind')).resolves.toBe('CREDIT');
  await expect(row.textContent()).resolves.toContain('Top-up via sandbox');

  // And the money buys a number.
  await page.goto('/#/buy');
  await page.getByTestId('service-search').fill('telegram');
  await page.locator('[data-testid="service-result"][data-service="tg"]').getByTestId('buy-button').first().click();
  await page.getByTestId('phone-number').waitFor();
  const me = await system.request('GET', '/api/auth/me', { token: (await page.evaluate(`localStorage.getItem('simgate.token')`)) as string });
  expect(await system.container.wallet.checkInvariants(me.body.user.id)).toEqual([]);
  expect(pages.takeErrors()).toEqual([]);
});

it('tops up with crypto: the address, the amount and a QR code, then live status until credited', async () => {
  const page = await pages.open(system.api.url, DESKTOP);
  await signUp(page);

  await page.goto('/#/wallet');
  await page.getByTestId('topup-link').click();
  await page.getByTestId('topup-amount').fill('10');
  await page.getByTestId('processor-nowpayments').check();
  await page.getByTestId('topup-submit').click();
  await page.getByTestId('pay-qr').waitFor();
  await expect(page.getByTestId('pay-amount').textContent()).resolves.toBe('10 USDTTRC20');
  const address = (await page.getByTestId('pay-address').textContent()) ?? '';
  await screenshot(page, 'topup-crypto');

  // The customer's wallet app sends the coins; NOWPayments' IPNs arrive.
  const topupId = page.url().split('/').pop()!;
  const payment = await system.container.db.topup.findUniqueOrThrow({ where: { id: topupId } });
  expect(payment.payAddress).toBe(address);
  const paid = await fetch(`${processorsUrl}/control/nowpayments/payments/${payment.processorRef}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(paid.status).toBe(200);
  await waitFor(async () => (await page.getByTestId('topup-status').getAttribute('data-status')) === 'CREDITED', { timeoutMs: 20_000 });
  await waitFor(async () => (await page.getByTestId('header-balance').textContent()) === '$10.00', { timeoutMs: 10_000 });
  expect(pages.takeErrors()).toEqual([]);
});

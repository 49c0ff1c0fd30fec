import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/auth/webhook-signature';
import { startSystem, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { assertUiBuilt, axeViolations, PageSet, PHONE, screenshot, seriousOnly } from './browser';

/**
 * The webhook card of the web app's API keys page in Chromium against the whole back end: save
 * the endpoint (the secret shown once), see a delivery that failed and then succeeded in the
 * log, replay it, and see the notice once SimGate has disabled the endpoint.
 */

jest.setTimeout(90_000);

let system: TestSystem;
let pages: PageSet;
let receiver: WebhookReceiver;

beforeAll(async () => {
  assertUiBuilt();
  receiver = await startWebhookReceiver();
  [system, pages] = await Promise.all([
    startSystem({ serveUi: true, env: { WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_RETRY_INITIAL_MS: '200', WEBHOOK_RETRY_MAX_MS: '1000' } }),
    PageSet.launch(),
  ]);
});

afterAll(async () => {
  await pages?.close();
  await system?.stop();
  await receiver?.close();
});

afterEach(() => {
  expect(pages.takeErrors()).toEqual([]);
});

async function signUp(page: Page): Promise<{ id: string; token: string }> {
  await page.goto('/');
  await page.getByTestId('auth-toggle').click();
  await page.getByLabel('Email').fill(`web-hooks-${randomUUID()}@simgate.test`);
  await page.getByLabel('Password').fill('customer-password');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('sign-out').waitFor();
  const token = (await page.evaluate(`localStorage.getItem('simgate.token')`)) as string;
  const me = await system.request('GET', '/api/auth/me', { token });
  return { id: me.body.user.id as string, token };
}

it('saves the webhook, shows the delivery log and replays a delivery', async () => {
  const page = await pages.open(system.api.url, PHONE);
  try {
    const user = await signUp(page);
    await system.request('POST', `/api/admin/wallets/${user.id}/credit`, { token: system.adminToken, headers: { 'Idempotency-Key': `e2e-${randomUUID()}` }, body: { amountMicros: '2000000', memo: 'e2e' } });

    await page.goto('/#/keys');
    await page.getByTestId('webhook-url').fill(receiver.url);
    await page.getByTestId('webhook-threshold').fill('1.50');
    await page.getByTestId('save-webhook').click();
    const secret = (await page.getByTestId('webhook-secret-value').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    const saved = await system.request('GET', '/api/webhook', { token: user.token });
    expect(saved.body.webhook).toMatchObject({ url: receiver.url, enabled: true, format: 'SIMGATE', balanceLowThresholdMicros: '1500000' });

    // One failure, then the receiver answers.
    receiver.script([{ status: 500 }]);
    const bought = await system.request('POST', '/api/numbers', { token: user.token, headers: { 'Idempotency-Key': `e2e-${randomUUID()}` }, body: { service: 'wa', country: 'ID' } });
    expect(bought.status).toBe(201);
    const mine = (r: { body: Record<string, unknown> }) => (r.body.data as { activation?: { id: string } } | undefined)?.activation?.id === bought.body.activation.id;
    const first = await waitFor(async () => receiver.requests.find((r) => mine(r) && r.status === 200));
    expect(verifyWebhook(secret, first.headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string, first.raw)).toBe(true);

    await page.getByTestId('reload-deliveries').click();
    const row = page.locator('[data-testid="webhook-delivery-row"][data-status="DELIVERED"]');
    await row.waitFor();
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('2');
    await screenshot(page, 'webhooks-phone');
    const overflow = await page.evaluate(`[document.documentElement.scrollWidth - window.innerWidth,
      [...document.querySelectorAll('body *')].filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1).length]`);
    expect(overflow).toEqual([0, 0]);
    expect(seriousOnly(await axeViolations(page))).toEqual([]);

    await row.getByTestId('replay-delivery').click();
    await waitFor(async () => receiver.requests.filter((r) => mine(r) && r.status === 200).length >= 2);

    // Disabled by SimGate (after a day of failures): the card says so.
    const webhook = await system.container.db.partnerWebhook.findUniqueOrThrow({ where: { userId: user.id } });
    await system.container.partnerWebhooks.disableForFailures(webhook.id, new Date(Date.now() - 86_400_000));
    await page.reload();
    await expect(page.getByTestId('webhook-disabled-notice').textContent()).resolves.toContain('Every delivery failed since');
    await expect(page.getByTestId('replay-delivery').first().isDisabled()).resolves.toBe(true);
    await screenshot(page, 'webhooks-disabled-phone');
  } finally {
    await page.context().close();
  }
});

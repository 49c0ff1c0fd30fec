import { randomUUID } from 'node:crypto';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/auth/webhook-signature';
import { webhookDeliveryWorkflowId, webhookEventSignal } from '../../workflows/contracts';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver';
import { createKey, partnerCall, type PartnerKey } from './security/helpers';

/**
 * Partner webhooks over real HTTP (docs/webhooks.md): purchases through the API, SMS from the
 * simulator, the worker's delivery workflow posting to a local receiver that fails, times out
 * and recovers; signatures checked as a partner would; the delivery log and replay through
 * /api/v1 and /api/webhook.
 */

type Customer = Awaited<ReturnType<TestSystem['customer']>>;
type Activation = { id: string; providerId: string; phone: string };

/** Not Telegram in Indonesia, which the workflow tests take over in the shared catalog. */
const BUY = { service: 'wa', country: 'ID' };
const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

describe('partner webhooks', () => {
  let system: TestSystem;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Attempts time out after 500 ms; retries start at 200 ms and double up to 1 s.
    system = await startSystem({ env: { WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_RETRY_INITIAL_MS: '200', WEBHOOK_RETRY_MAX_MS: '1000' } });
  });
  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  async function partner(settings: Record<string, unknown> = {}): Promise<{ customer: Customer; key: PartnerKey; secret: string }> {
    const customer = await system.customer(10_000_000n);
    const saved = await system.request('PUT', '/api/webhook', { token: customer.token, body: { url: receiver.url, ...settings } });
    expect(saved.status).toBe(200);
    expect(saved.body.secret).toMatch(/^whsec_/);
    const key = await createKey(system, customer.token, ['read', 'purchase']);
    return { customer, key, secret: saved.body.secret };
  }

  async function buy(customer: Customer): Promise<Activation> {
    const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': `wh-${randomUUID()}` }, body: BUY });
    expect(bought.status).toBe(201);
    return bought.body.activation;
  }

  async function sms(activation: Activation, code: string) {
    const tenant = tenantOf(activation.providerId);
    const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
    const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone);
    await system.sim('POST', `/control/${tenant}/activations/${upstream.id}/sms`, { code });
  }

  /** Requests for one activation's events, in order of arrival; SMS-Activate bodies carry activationId, ours data.activation.id. */
  const requestsFor = (activationId: string) =>
    receiver.requests.filter((r) => (r.body.data as { activation?: { id: string }; activationId?: string } | undefined)?.activation?.id === activationId || (r.body.data as { activationId?: string } | undefined)?.activationId === activationId || r.body.activationId === activationId);
  const accepted = (requests: ReceivedRequest[]) => requests.filter((r) => r.status < 300 && !r.delayMs);
  const typesOf = (requests: ReceivedRequest[]) => requests.map((r) => r.headers[WEBHOOK_HEADERS.eventType.toLowerCase()]);

  const deliveredTypes = (activationId: string, count: number) =>
    waitFor(async () => {
      const ok = accepted(requestsFor(activationId));
      return ok.length >= count ? ok : null;
    }, { timeoutMs: 30_000 });

  it('signs every delivery, retries through failures and a timeout, and keeps each activation\'s events in order', async () => {
    const { customer, key, secret } = await partner({ balanceLowThresholdMicros: '9950000' });
    // The first event meets two 5xx and a timeout before the receiver recovers.
    receiver.script([{ status: 500 }, { status: 503 }, { delayMs: 1500 }]);
    const activation = await buy(customer);
    const [active] = await deliveredTypes(activation.id, 1);
    expect(active.body).toMatchObject({ type: 'activation.active', data: { activation: { id: activation.id, status: 'ACTIVE', userId: customer.id } } });
    expect(typesOf(requestsFor(activation.id))).toEqual(['activation.active', 'activation.active', 'activation.active', 'activation.active']);
    expect(requestsFor(activation.id).map((r) => r.headers[WEBHOOK_HEADERS.attempt.toLowerCase()])).toEqual(['1', '2', '3', '4']);

    // sms.received fails once: balance.low and activation.completed, queued behind it, wait for it.
    receiver.script([{ status: 500 }]);
    await sms(activation, '48213');
    await waitFor(async () => requestsFor(activation.id).some((r) => r.body.type === 'sms.received'));
    const finished = await partnerCall(system, key, 'POST', `/api/v1/numbers/${activation.id}/finish`);
    expect(finished.status).toBe(200);
    const ok = await deliveredTypes(activation.id, 4);
    expect(typesOf(ok)).toEqual(['activation.active', 'sms.received', 'balance.low', 'activation.completed']);
    expect(ok[1].body).toMatchObject({ data: { sms: { seq: 1, code: '48213' } } });
    expect(ok[2].body).toMatchObject({ type: 'balance.low', data: { thresholdMicros: '9950000', activationId: activation.id } });
    expect(BigInt((ok[2].body.data as { availableMicros: string }).availableMicros)).toBeLessThan(9_950_000n);

    // Every request — failed or not — is signed over timestamp + "." + the exact body, and carries the event id.
    for (const request of requestsFor(activation.id)) {
      const header = request.headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string;
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhook(secret, header, request.raw)).toBe(true);
      expect(verifyWebhook(secret, header, request.raw.replace('}', ' }'))).toBe(false);
      expect(verifyWebhook(`${secret}x`, header, request.raw)).toBe(false);
      expect(request.headers[WEBHOOK_HEADERS.eventId.toLowerCase()]).toBe(request.body.id);
    }
    // A stale timestamp is refused even with a valid MAC.
    const first = requestsFor(activation.id)[0];
    const stamp = Number(/t=(\d+)/.exec(first.headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string)![1]);
    expect(verifyWebhook(secret, first.headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string, first.raw, { nowSeconds: stamp + 301 })).toBe(false);

    // The log, through the partner API: status, attempts, last error, response time.
    const log = await partnerCall(system, key, 'GET', '/api/v1/webhook/deliveries');
    expect(log.status).toBe(200);
    const byType = Object.fromEntries(log.body.deliveries.map((d: { type: string }) => [d.type, d]));
    expect(Object.keys(byType).sort()).toEqual(['activation.active', 'activation.completed', 'balance.low', 'sms.received']);
    expect(byType['activation.active']).toMatchObject({ status: 'DELIVERED', attempts: 4, lastStatusCode: 200, lastError: null, activationId: activation.id });
    expect(byType['activation.active'].lastResponseMs).toEqual(expect.any(Number));
    expect(byType['sms.received']).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(byType['activation.completed']).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    // The ids are the ones the receiver saw, and the body is the one signed.
    expect(byType['activation.completed'].eventId).toBe(ok[3].body.id);
    expect(byType['activation.completed'].body).toBe(ok[3].raw);
  });

  it('records the timeout and the failing status in the log while an event is still being retried', async () => {
    const { customer, key } = await partner();
    receiver.script([{ delayMs: 1500 }, { status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }]);
    const activation = await buy(customer);
    const timedOut = await waitFor(async () => {
      const log = await partnerCall(system, key, 'GET', '/api/v1/webhook/deliveries?status=PENDING');
      const row = log.body.deliveries[0];
      return row && row.attempts >= 1 && row.lastError ? row : null;
    });
    expect(timedOut).toMatchObject({ type: 'activation.active', status: 'PENDING', lastError: 'Timed out after 500 ms', lastStatusCode: null });
    const failing = await waitFor(async () => {
      const log = await partnerCall(system, key, 'GET', '/api/v1/webhook/deliveries?status=PENDING');
      const row = log.body.deliveries[0];
      return row && row.lastStatusCode === 502 ? row : null;
    });
    expect(failing.lastError).toBe('HTTP 502');
    // Recovered: delivered on a later attempt.
    const [delivered] = await deliveredTypes(activation.id, 1);
    expect(delivered.headers[WEBHOOK_HEADERS.attempt.toLowerCase()]).toBe('9');
  });

  it('delivers an event once however often it is enqueued or signalled, and replays it on request', async () => {
    const { customer, key, secret } = await partner();
    const activation = await buy(customer);
    const [active] = await deliveredTypes(activation.id, 1);
    const eventId = active.body.id as string;

    // The record activity retried: same event id, nothing new to send.
    await system.container.partnerEvents.activationChanged((active.body.data as { activation: never }).activation, { kind: 'purchase' });
    // A duplicate signal for the same event and generation: the workflow and the log both drop it.
    const row = await system.container.db.webhookDelivery.findUniqueOrThrow({ where: { id: eventId } });
    await system.container.temporal.client.workflow.getHandle(webhookDeliveryWorkflowId(row.webhookId)).signal(webhookEventSignal, { eventId, generation: 0, lane: activation.id });
    // The replay below goes after these in the same lane: when it arrives, the duplicates had their turn.
    const replayed = await partnerCall(system, key, 'POST', `/api/v1/webhook/deliveries/${eventId}/replay`);
    expect(replayed.status).toBe(200);
    expect(replayed.body.delivery).toMatchObject({ eventId, status: 'PENDING', attempts: 0 });
    const again = await waitFor(async () => {
      const sent = accepted(requestsFor(activation.id));
      return sent.length >= 2 ? sent : null;
    });
    expect(again).toHaveLength(2);
    expect(again[1].body.id).toBe(eventId);
    expect(again[1].raw).toBe(active.raw);
    expect(verifyWebhook(secret, again[1].headers[WEBHOOK_HEADERS.signature.toLowerCase()] as string, again[1].raw)).toBe(true);
    expect(await system.container.db.webhookDelivery.count({ where: { userId: customer.id } })).toBe(1);
    const logged = await waitFor(async () => {
      const log = await system.request('GET', '/api/webhook/deliveries', { token: customer.token });
      return log.body.deliveries[0]?.status === 'DELIVERED' ? log.body.deliveries[0] : null;
    });
    expect(logged).toMatchObject({ eventId, attempts: 1 });
    expect(await system.container.db.auditLog.count({ where: { action: 'webhook.replay', actorId: customer.id, targetId: eventId } })).toBe(1);

    // Clear refusals: someone else's event, a malformed id, a disabled endpoint.
    const stranger = await partner();
    expect((await partnerCall(system, stranger.key, 'POST', `/api/v1/webhook/deliveries/${eventId}/replay`)).body.error.code).toBe('NOT_FOUND');
    expect((await partnerCall(system, key, 'POST', '/api/v1/webhook/deliveries/evt_nope/replay')).body.error.code).toBe('VALIDATION_ERROR');
    const off = await system.request('PUT', '/api/webhook', { token: customer.token, body: { url: receiver.url, enabled: false } });
    expect(off.status).toBe(200);
    const refused = await partnerCall(system, key, 'POST', `/api/v1/webhook/deliveries/${eventId}/replay`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('WEBHOOK_DISABLED');
  });

  it('posts the SMS-Activate activation webhook body to partners who chose it', async () => {
    const { customer } = await partner({ format: 'SMS_ACTIVATE' });
    const activation = await buy(customer);
    await sms(activation, '90817');
    const [posted] = await deliveredTypes(activation.id, 1);
    expect(posted.headers[WEBHOOK_HEADERS.eventType.toLowerCase()]).toBe('sms.received');
    expect(posted.body).toEqual({ activationId: activation.id, service: 'wa', text: expect.stringContaining('90817'), code: '90817', country: 6, receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    // Only the SMS: no activation.active before it.
    expect(requestsFor(activation.id)).toHaveLength(1);
  });

  it('lists the partner endpoints in the OpenAPI document and pages the log', async () => {
    const doc = (await system.request('GET', '/api/v1/openapi.json')).body;
    expect(doc.paths['/webhook/deliveries'].get['x-scope']).toBe('read');
    expect(doc.paths['/webhook/deliveries/{eventId}/replay'].post['x-scope']).toBe('purchase');
    expect(doc.paths['/webhook'].put.requestBody.content['application/json'].schema.properties.format.enum).toEqual(['SIMGATE', 'SMS_ACTIVATE']);

    const { customer, key } = await partner();
    const activation = await buy(customer);
    await deliveredTypes(activation.id, 1);
    const cancelled = await partnerCall(system, key, 'POST', `/api/v1/numbers/${activation.id}/cancel`, { sign: true });
    expect(cancelled.status).toBe(200);
    await deliveredTypes(activation.id, 2);
    const page1 = await partnerCall(system, key, 'GET', '/api/v1/webhook/deliveries?limit=1');
    expect(page1.body.deliveries.map((d: { type: string }) => d.type)).toEqual(['activation.cancelled']);
    const page2 = await partnerCall(system, key, 'GET', `/api/v1/webhook/deliveries?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.deliveries.map((d: { type: string }) => d.type)).toEqual(['activation.active']);
    expect(page2.body.nextCursor).toBeNull();
    expect((await partnerCall(system, key, 'GET', '/api/v1/webhook/deliveries?cursor=bm9wZQ')).body.error.code).toBe('VALIDATION_ERROR');
  });
});

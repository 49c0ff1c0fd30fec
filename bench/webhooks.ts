/**
 * `npm run bench:webhooks`: partner webhook delivery, against its own database and Temporal dev
 * server (bench/system.ts), SMS arriving by the provider's webhook.
 *
 *   1. purchase → `activation.active` at the partner's receiver, and SMS at the provider →
 *      `sms.received` at the receiver (p50 / p95)
 *   2. what the enqueue costs a purchase: POST /api/numbers → number, with and without a
 *      partner webhook (concurrency 1)
 *   3. Temporal history events per delivered event in the endpoint's delivery workflow
 *
 * Progress goes to stderr, the figures to stdout. Not a test: nothing here asserts.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { webhookDeliveryWorkflowId } from '../workflows/contracts';
import { summarize, table } from './stats';
import { COUNTRY_ISO, PROVIDER_TENANT, SERVICE, createCustomers, startInfra, startSimulator, startStack, type Customer, type Stack } from './system';

const SAMPLES = 30;

const log = (message: string) => process.stderr.write(`[bench:webhooks] ${message}\n`);

/** The partner: notes when each event type of each activation arrived. */
async function startReceiver() {
  const arrivals = new Map<string, number>();
  let waiters: { key: string; resolve: (at: number) => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      res.end('ok');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; data: { activation?: { id: string } } };
      const key = `${body.data.activation?.id}:${body.type}`;
      arrivals.set(key, at);
      waiters = waiters.filter((waiter) => (waiter.key === key ? (waiter.resolve(at), false) : true));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrival(activationId: string, type: string): Promise<number> {
      const key = `${activationId}:${type}`;
      const at = arrivals.get(key);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve) => waiters.push({ key, resolve }));
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function buy(stack: Stack, customer: Customer): Promise<{ activation: { id: string; providerId: string; phone: string }; ms: number; startedAt: number }> {
  const startedAt = performance.now();
  const reply = await stack.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': `bench-${randomUUID()}` }, body: { service: SERVICE, country: COUNTRY_ISO } });
  if (reply.status !== 201) throw new Error(`purchase failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { activation: reply.body.activation, ms: performance.now() - startedAt, startedAt };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const infra = await startInfra();
  const simulator = await startSimulator();
  const receiver = await startReceiver();
  const webhookSecret = `bench-${randomUUID()}`;
  const stack = await startStack({ label: 'webhooks', infra, simulatorUrl: simulator.url, webhookSecret, adminEmail: `admin-${randomUUID()}@simgate.test`, polling: { initialMs: 60_000, maxMs: 60_000 } });
  try {
    await simulator.setWebhook((providerId) => `${stack.api.url}/webhooks/providers/${providerId}?secret=${webhookSecret}`);
    const [partner, plain] = await createCustomers(stack, 2, 1_000_000_000n);
    const saved = await stack.request('PUT', '/api/webhook', { token: partner.token, body: { url: receiver.url } });
    if (saved.status !== 200) throw new Error(`webhook not saved: ${JSON.stringify(saved.body)}`);

    const active: number[] = [];
    const sms: number[] = [];
    const withHook: number[] = [];
    const withoutHook: number[] = [];
    log(`${SAMPLES} partner purchases with an SMS each`);
    for (let i = 0; i < SAMPLES; i++) {
      const bought = await buy(stack, partner);
      withHook.push(bought.ms);
      active.push((await receiver.arrival(bought.activation.id, 'activation.active')) - bought.startedAt);
      const tenant = PROVIDER_TENANT[bought.activation.providerId];
      const { activations } = await simulator.control('GET', `/${tenant}/activations`);
      const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === bought.activation.phone);
      const sentAt = performance.now();
      await simulator.control('POST', `/${tenant}/activations/${upstream.id}/sms`, { code: String(10000 + i) });
      sms.push((await receiver.arrival(bought.activation.id, 'sms.received')) - sentAt);
    }
    log(`${SAMPLES} purchases without a webhook`);
    for (let i = 0; i < SAMPLES; i++) withoutHook.push((await buy(stack, plain)).ms);

    const webhook = await stack.container.db.partnerWebhook.findUniqueOrThrow({ where: { userId: partner.id } });
    const handle = stack.container.temporal.client.workflow.getHandle(webhookDeliveryWorkflowId(webhook.id));
    const history = await handle.fetchHistory();
    const delivered = await stack.container.db.webhookDelivery.count({ where: { userId: partner.id, status: 'DELIVERED' } });

    const row = (name: string, values: number[]) => {
      const s = summarize(values);
      return [name, s.p50, s.p95, s.max];
    };
    process.stdout.write(
      `${table(['figure (ms)', 'p50', 'p95', 'max'], [
        row('purchase → activation.active at the partner', active),
        row('SMS at the provider → sms.received at the partner', sms),
        row('POST /api/numbers → number, partner with a webhook', withHook),
        row('POST /api/numbers → number, no webhook', withoutHook),
      ])}\n`,
    );
    process.stdout.write(`delivery workflow: ${history.events?.length ?? 0} history events for ${delivered} delivered events (${((history.events?.length ?? 0) / Math.max(1, delivered)).toFixed(1)} per event)\n`);
  } finally {
    await stack.stop();
    await receiver.close();
    await simulator.close();
    await infra.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

/**
 * Records the webhook delivery workflow's history for the replay test (test/workflows/replay.test.ts):
 *
 *   npx tsx test/workflows/record-webhook-history.ts [name]
 *
 * Like record-histories.ts (its own dev server and database, the real activities), but for
 * webhookDeliveryWorkflow only, so recording it never re-records the activation histories: two
 * activations' events to a local receiver that fails twice and then answers, one lane waiting
 * for the other's retries not at all, terminated once all are delivered. Writes
 * test/fixtures/histories/<name>.json (default webhook-delivery) and its line in index.json: a
 * new name keeps the histories of an earlier version of the workflow beside the new one's.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createWebhookActivities } from '../../activities/webhooks';
import type { ActivationRecord } from '../../src/activations/read-model';
import { PartnerEvents } from '../../src/activations/partner-events';
import { PartnerWebhookService } from '../../src/auth/partner-webhooks.service';
import { applyMigrations, dropDatabase } from '../../src/db/migrate';
import { AuditLog } from '../../src/lib/audit';
import { developmentKeyring, SecretBox } from '../../src/lib/secrets';
import { startDevServer } from '../../src/temporal/dev-server';
import { buildWorkflowBundle } from '../../src/temporal/worker';
import { webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../../workflows/contracts';
import { TMP_DIR } from '../support/paths';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { connectTemporal } from './harness';
import { HISTORIES_DIR, historyToJson } from './history-json';
import { newCustomer, openInfra, quietTemporalRuntime } from './support';

const NAME = process.argv[2] ?? 'webhook-delivery';
const DESCRIPTION =
  'partner webhook endpoint (webhookDeliveryWorkflow): activation.active, sms.received and activation.completed of one activation and activation.active of another; the receiver fails twice (500) then answers; each activation delivered in order; terminated once all four were delivered';

async function main(): Promise<void> {
  quietTemporalRuntime();
  const base = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432';
  const databaseUrl = `${base}/simgate_record_${Date.now()}_${process.pid}`;
  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  mkdirSync(TMP_DIR, { recursive: true });
  const bundlePath = path.join(TMP_DIR, `record-webhook-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
  const cleanup: (() => Promise<unknown>)[] = [async () => rmSync(bundlePath, { force: true })];
  try {
    const server = await startDevServer({ headless: true, fast: true });
    cleanup.unshift(() => server.stop());
    cleanup.unshift(() => dropDatabase(databaseUrl));
    await applyMigrations(databaseUrl);
    const infra = await openInfra();
    cleanup.unshift(() => infra.close());
    const temporal = await connectTemporal(server.address, bundlePath);
    cleanup.unshift(() => temporal.close());
    const receiver = await startWebhookReceiver();
    cleanup.unshift(() => receiver.close());

    const { db } = infra;
    const userId = await newCustomer(infra);
    const partnerWebhooks = new PartnerWebhookService({ db, secrets: new SecretBox(developmentKeyring()), audit: new AuditLog({ db }), production: false });
    await partnerWebhooks.put(userId, { url: receiver.url, enabled: true, rotateSecret: false }, { ip: '127.0.0.1' });
    const webhook = await db.partnerWebhook.findUniqueOrThrow({ where: { userId } });
    const { worker, taskQueue } = await temporal.worker(createWebhookActivities({ db, partnerWebhooks, timeoutMs: 2000 }), 'record-webhook');
    const retry: WebhookDeliveryInput['retry'] = { initialMs: 200, maxMs: 1000, giveUpAfterMs: 60_000, disableAfterMs: 60_000 };
    const events = new PartnerEvents({ db, temporal: temporal.client, taskQueue, retry });
    const activation = (id: string, status: ActivationRecord['status'], messages: ActivationRecord['messages'] = []): ActivationRecord => ({
      id,
      userId,
      status,
      serviceCode: 'tg',
      countryIso: 'ID',
      providerId: 'hero-sim',
      phone: '+6281234567890',
      heldMicros: '130000',
      priceMicros: '130000',
      expiresAt: null,
      cancelAllowedAt: null,
      failureReason: null,
      messages,
      actions: { cancel: false, retry: false, finish: false },
      createdAt: new Date().toISOString(),
    });
    const sms = { seq: 1, code: '12345', text: 'code 12345', receivedAt: new Date().toISOString() };
    receiver.script([{ status: 500 }, { status: 500 }]);
    const handle = temporal.client.workflow.getHandle(webhookDeliveryWorkflowId(webhook.id));
    await worker.runUntil(async () => {
      await events.activationChanged(activation('act-record-1', 'ACTIVE'), { kind: 'purchase' });
      await events.activationChanged(activation('act-record-2', 'ACTIVE'), { kind: 'purchase' });
      await events.activationChanged(activation('act-record-1', 'ACTIVE', [sms]), { kind: 'sms', seq: 1 });
      await events.activationChanged(activation('act-record-1', 'COMPLETED', [sms]), { kind: 'outcome' });
      // Idle for a whole wait ends the run: the default is an hour, too long to record; terminate once all are in.
      for (;;) {
        const delivered = await db.webhookDelivery.count({ where: { userId, status: 'DELIVERED' } });
        if (delivered === 4) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await handle.terminate('recorded');
    });
    const history = await handle.fetchHistory();
    mkdirSync(HISTORIES_DIR, { recursive: true });
    writeFileSync(path.join(HISTORIES_DIR, `${NAME}.json`), historyToJson(history));
    const indexFile = path.join(HISTORIES_DIR, 'index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>;
    writeFileSync(indexFile, `${JSON.stringify({ ...index, [NAME]: DESCRIPTION }, null, 2)}\n`);
    process.stdout.write(`recorded ${NAME}: ${history.events?.length ?? 0} events, ${receiver.requests.length} requests\n`);
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

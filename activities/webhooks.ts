import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { publicOnlyLookup, type PartnerWebhookService } from '../src/auth/partner-webhooks.service';
import { signWebhook, WEBHOOK_HEADERS } from '../src/auth/webhook-signature';
import type { Db } from '../src/db/client';
import type { WebhookAttemptOutcome } from '../workflows/contracts';

export interface WebhookActivityDeps {
  db: Db;
  partnerWebhooks: Pick<PartnerWebhookService, 'deliveryCheck' | 'disableForFailures'>;
  /** One attempt's whole budget: connect, send, status line. */
  timeoutMs: number;
  now?: () => number;
}

/** What one POST came to; the response body is never read (a partner's page could be huge). */
interface PostResult {
  statusCode: number | null;
  error: string | null;
  elapsedMs: number;
}

const MAX_ERROR_LENGTH = 500;

/**
 * The steps of webhookDeliveryWorkflow. A delivery is at least once by nature (an answer lost
 * after the partner processed it is sent again): receivers dedupe by SimGate-Event-Id, and every
 * write here is guarded by the event's generation, so a retried activity only repeats the POST.
 */
export function createWebhookActivities(deps: WebhookActivityDeps) {
  const now = deps.now ?? Date.now;

  return {
    async deliverWebhookEvent(input: { webhookId: string; eventId: string; generation: number; attempt: number }): Promise<WebhookAttemptOutcome> {
      const delivery = await deps.db.webhookDelivery.findUnique({ where: { id: input.eventId } });
      // A stale generation (replayed since), or an event already delivered: the duplicate goes nowhere.
      if (!delivery || delivery.generation !== input.generation || delivery.webhookId !== input.webhookId) return 'skipped';
      if (delivery.status === 'DELIVERED') return 'skipped';
      if (delivery.status === 'FAILED') return 'skipped';

      const check = await deps.partnerWebhooks.deliveryCheck(input.webhookId);
      if (check.state === 'off') {
        await markFailed(input, 'The endpoint is disabled.');
        return 'skipped';
      }
      const attemptAt = new Date(now());
      let result: PostResult;
      if (check.state === 'refused') {
        // Checked again at every attempt: the partner's DNS may point back to a public address.
        result = { statusCode: null, error: `Not delivered: ${check.reason}`, elapsedMs: 0 };
      } else {
        const timestamp = Math.floor(attemptAt.getTime() / 1000);
        result = await post(check.url, delivery.body, {
          'content-type': 'application/json',
          'user-agent': 'SimGate-Webhooks/1',
          [WEBHOOK_HEADERS.signature]: signWebhook(check.secret, timestamp, delivery.body),
          [WEBHOOK_HEADERS.eventId]: delivery.id,
          [WEBHOOK_HEADERS.eventType]: delivery.type,
          [WEBHOOK_HEADERS.attempt]: String(input.attempt),
        }, { timeoutMs: deps.timeoutMs, publicOnly: check.publicOnly });
      }
      const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      await deps.db.webhookDelivery.updateMany({
        where: { id: input.eventId, generation: input.generation, status: 'PENDING' },
        data: {
          ...(ok ? { status: 'DELIVERED', deliveredAt: attemptAt, lastError: null } : { lastError: (result.error ?? `HTTP ${result.statusCode}`).slice(0, MAX_ERROR_LENGTH) }),
          // The workflow numbers its attempts: a retried activity does not count twice.
          attempts: input.attempt,
          lastStatusCode: result.statusCode,
          lastResponseMs: result.elapsedMs,
          lastAttemptAt: attemptAt,
        },
      });
      return ok ? 'delivered' : 'failed';
    },

    /** Retried past giveUpAfterMs: kept in the log as FAILED, for the partner to replay. */
    async giveUpWebhookEvent(input: { eventId: string; generation: number }): Promise<void> {
      await deps.db.webhookDelivery.updateMany({ where: { id: input.eventId, generation: input.generation, status: 'PENDING' }, data: { status: 'FAILED' } });
    },

    /** A day of failures: the endpoint is switched off with a notice, and what waited for it is marked failed (replayable). */
    async disableWebhookEndpoint(input: { webhookId: string; failingSince: string }): Promise<void> {
      await deps.partnerWebhooks.disableForFailures(input.webhookId, new Date(input.failingSince));
      await deps.db.webhookDelivery.updateMany({
        where: { webhookId: input.webhookId, status: 'PENDING' },
        data: { status: 'FAILED', lastError: 'The endpoint was disabled after a day of failed deliveries.' },
      });
    },
  };

  async function markFailed(input: { eventId: string; generation: number }, error: string): Promise<void> {
    await deps.db.webhookDelivery.updateMany({ where: { id: input.eventId, generation: input.generation, status: 'PENDING' }, data: { status: 'FAILED', lastError: error } });
  }
}

/**
 * One POST with node:http(s) rather than fetch: its `lookup` option lets production pin the
 * public-address check to the very connection (no redirect is followed either: a 3xx is a failure).
 */
function post(url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; publicOnly: boolean }): Promise<PostResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'elapsedMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, elapsedMs: elapsed() });
    };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      ...(options.publicOnly ? { lookup: publicOnlyLookup } : {}),
    });
    const timer = setTimeout(() => {
      finish({ statusCode: null, error: `Timed out after ${options.timeoutMs} ms` });
      req.destroy();
    }, options.timeoutMs);
    req.on('response', (res) => {
      finish({ statusCode: res.statusCode ?? null, error: null });
      res.resume();
      res.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ statusCode: null, error: error.code ? `${error.code}: ${error.message}` : error.message }));
    req.end(body);
  });
}

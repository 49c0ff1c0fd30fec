/**
 * Delivers one partner endpoint's events (docs/webhooks.md). One workflow per endpoint, fed by
 * signal-with-start from the record activities (src/activations/partner-events.ts) and replays.
 *
 * Events are queued per lane (an activation): a lane's events go out one after the other in the
 * order they were enqueued, so a partner never sees `activation.completed` before the
 * `sms.received` it follows; different activations do not wait for each other. A failed attempt
 * is retried after a durable timer doubling from `retry.initialMs` to `retry.maxMs`; an event is
 * given up after `retry.giveUpAfterMs`, and the endpoint is disabled once it has failed without a
 * success for `retry.disableAfterMs`. Duplicates (a record activity retried, a signal sent twice)
 * are dropped here by event id and generation within a run, and by the activity against the log
 * across runs (a delivered event is never sent again, a stale generation never at all).
 */
import { condition, continueAsNew, patched, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  getWebhookDeliveryQuery,
  NON_RETRYABLE_FAILURES,
  webhookEventSignal,
  type WebhookDeliveryInput,
  type WebhookDeliveryState,
  type WebhookEventRef,
} from './contracts';

/** An attempt's HTTP failure is an outcome, not an error: these retries cover our own infrastructure only. */
const webhooks = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES] },
});

const ONE_HOUR_MS = 60 * 60_000;
/**
 * A lane's pause between two attempts is never cancelled, not even when another lane disables the
 * endpoint (the run then ends without waiting for it): cancelling it raced a timer firing during
 * the same workflow task, which the time-skipping test server refuses and then never redelivers
 * the task (temporalio/sdk-java#3088, #2606) — wedging the tests' server, every later test of the
 * file with it. The real server accepts such a cancel; a pause left to run costs nothing.
 */
const PATCH_PAUSE_UNCANCELLED = 'webhook-pause-uncancelled';

/** Events handled per run before continue-as-new (also when the server suggests it), so the history stays small. */
const EVENTS_PER_RUN = 200;

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryState> {
  const { retry } = input;
  const lanes = new Map<string, WebhookEventRef[]>();
  const running = new Map<string, Promise<void>>();
  const seen = new Set<string>();
  let failingSince = input.failingSince ?? null;
  let disabled = false;
  let delivered = 0;
  let failed = 0;
  let handled = 0;

  /** Set once a pause ran under PATCH_PAUSE_UNCANCELLED: a disabled run then waits only for the lanes not pausing. */
  let pausesRunOut = false;
  let lanesPausing = 0;

  const keyOf = (ref: WebhookEventRef) => `${ref.eventId}#${ref.generation}`;
  const enqueue = (ref: WebhookEventRef) => {
    if (disabled || seen.has(keyOf(ref))) return;
    seen.add(keyOf(ref));
    const lane = lanes.get(ref.lane) ?? [];
    lane.push(ref);
    lanes.set(ref.lane, lane);
  };
  for (const ref of input.pending ?? []) enqueue(ref);

  const state = (): WebhookDeliveryState => ({
    webhookId: input.webhookId,
    queued: [...lanes.values()].reduce((sum, lane) => sum + lane.length, 0),
    delivered,
    failed,
    failingSince,
    disabled,
  });
  setHandler(webhookEventSignal, enqueue);
  setHandler(getWebhookDeliveryQuery, state);

  /** Attempts one event until it is delivered, skipped, given up, or the endpoint is disabled. */
  const deliverWithRetries = async (ref: WebhookEventRef) => {
    const firstAttemptAt = Date.now();
    for (let attempt = 1; !disabled; attempt++) {
      const outcome = await webhooks.deliverWebhookEvent({ webhookId: input.webhookId, eventId: ref.eventId, generation: ref.generation, attempt });
      if (outcome === 'skipped') return;
      if (outcome === 'delivered') {
        failingSince = null;
        delivered++;
        return;
      }
      failingSince ??= firstAttemptAt;
      if (Date.now() - failingSince >= retry.disableAfterMs) {
        if (!disabled) {
          disabled = true;
          await webhooks.disableWebhookEndpoint({ webhookId: input.webhookId, failingSince: new Date(failingSince).toISOString() });
        }
        failed++;
        return;
      }
      if (Date.now() - firstAttemptAt >= retry.giveUpAfterMs) {
        await webhooks.giveUpWebhookEvent({ eventId: ref.eventId, generation: ref.generation });
        failed++;
        return;
      }
      const pause = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt - 1, 30));
      pausesRunOut = patched(PATCH_PAUSE_UNCANCELLED);
      if (pausesRunOut) {
        lanesPausing++;
        await sleep(pause);
        lanesPausing--;
      } else {
        // Runs started before the patch: woken early when another lane disables the endpoint.
        await condition(() => disabled, pause);
      }
    }
  };

  const runLane = async (name: string) => {
    const lane = lanes.get(name)!;
    while (lane.length > 0 && !disabled) {
      await deliverWithRetries(lane[0]);
      lane.shift();
      handled++;
    }
    lanes.delete(name);
    running.delete(name);
  };

  const idle = () => lanes.size === 0 && running.size === 0;
  const waiting = () => [...lanes.keys()].some((name) => !running.has(name));
  const timeToRoll = () => handled >= EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested;

  for (;;) {
    for (const name of lanes.keys()) if (!running.has(name)) running.set(name, runLane(name));
    const woken = await condition(() => disabled || waiting() || (idle() && timeToRoll()), input.idleMs ?? ONE_HOUR_MS);
    if (disabled) break;
    if (waiting()) continue;
    if (idle() && timeToRoll()) {
      await continueAsNew<typeof webhookDeliveryWorkflow>({ ...input, pending: [], failingSince });
    }
    // Idle for a whole wait: end; the next event's signal-with-start begins a new run.
    if (!woken && idle()) return state();
  }
  // Disabled: what the lanes still held is marked by the activity. A lane in a pause has nothing
  // more to send: the run ends once every other lane is done, the pending timers dropped with it
  // (no cancel). Runs from before the patch wake their lanes and wait for all of them.
  if (pausesRunOut) await condition(() => running.size === lanesPausing);
  else await Promise.all(running.values());
  return state();
}

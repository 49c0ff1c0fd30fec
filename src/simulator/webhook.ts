import type { Logger } from 'pino';

/** The SMS-Activate activation webhook body (spec 2.7). */
export interface ActivationWebhook {
  activationId: number;
  service: string;
  text: string;
  code: string;
  /** SMS-Activate country id; a 5sim tenant sends the id its slug has on SMS-Activate, or the slug when there is none. */
  country: number | string;
  receivedAt: string;
}

const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * Fire-and-forget, at most once, like the real thing (spec 2.7: no retry policy is known), so
 * SimGate must keep polling as its fallback. A failure is logged, never thrown.
 */
export function sendActivationWebhook(url: string, payload: ActivationWebhook, logger: Logger): void {
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  })
    .then(async (response) => {
      await response.arrayBuffer();
      if (!response.ok) logger.warn({ url, status: response.status, activationId: payload.activationId }, 'activation webhook refused');
    })
    .catch((error: unknown) => logger.warn({ url, err: error, activationId: payload.activationId }, 'activation webhook failed'));
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of every partner webhook delivery (docs/webhooks.md). */
export const WEBHOOK_HEADERS = {
  signature: 'SimGate-Signature',
  eventId: 'SimGate-Event-Id',
  eventType: 'SimGate-Event-Type',
  attempt: 'SimGate-Delivery-Attempt',
} as const;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the timestamp is inside the MAC,
 * so a captured delivery cannot be replayed later with a fresh timestamp.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${webhookMac(secret, timestampSeconds, body)}`;
}

function webhookMac(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
}

/** What a receiver does (the snippet in docs/webhooks.md is this function): true when authentic and fresh. */
export function verifyWebhook(secret: string, header: string | undefined, body: string, options: { nowSeconds?: number; toleranceSeconds?: number } = {}): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isSafeInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(webhookMac(secret, t, body), 'hex'));
}

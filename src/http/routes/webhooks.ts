import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { smsReceivedSignal } from '../../../workflows/contracts';
import { valid, validate } from '../middleware/validate';

/** SMS-Activate's activation webhook (spec 2.7); `activationId` may come as a number or a string. */
const smsActivateWebhook = {
  params: z.object({ providerId: z.string().regex(/^[a-z0-9-]{2,40}$/) }),
  query: z.object({ secret: z.string().optional() }),
  body: z.object({
    activationId: z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String),
    service: z.string().optional(),
    text: z.string().max(2000).default(''),
    code: z.union([z.string(), z.number()]).nullish().transform((c) => (c == null || c === '' ? null : String(c))),
    receivedAt: z.string().optional(),
  }),
};

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "YYYY-MM-DD HH:MM:SS" (provider time, taken as UTC) → ISO; anything unparsable → now. */
function toIso(receivedAt: string | undefined): string {
  const parsed = receivedAt ? Date.parse(receivedAt.replace(' ', 'T') + (receivedAt.includes('Z') ? '' : 'Z')) : NaN;
  return new Date(Number.isNaN(parsed) ? Date.now() : parsed).toISOString();
}

/** Upserts one LATE_SMS incident per upstream activation, appending each message to its details. */
export async function recordLateSms(
  db: Db,
  input: { providerId: string; upstreamId: string; activationId: string | null; sms: { code: string | null; text: string; receivedAt: string } },
): Promise<void> {
  const message = JSON.stringify([input.sms]);
  await db.$executeRaw`
    INSERT INTO upstream_incidents (kind, provider_id, upstream_id, activation_id, details)
    VALUES ('LATE_SMS', ${input.providerId}, ${input.upstreamId}, ${input.activationId}, jsonb_build_object('messages', ${message}::jsonb))
    ON CONFLICT (kind, provider_id, upstream_id) DO UPDATE
      SET details = jsonb_set(upstream_incidents.details, '{messages}', COALESCE(upstream_incidents.details->'messages', '[]'::jsonb) || ${message}::jsonb)`;
}

/**
 * Provider webhooks signal the activation workflow directly. Providers sign nothing, so the URL
 * carries a shared secret (`?secret=`, or the X-Webhook-Secret header). Unknown activations are
 * acknowledged (a provider retrying forever helps no one) and logged.
 */
export function webhookRoutes(deps: { db: Db; temporal: Client; secret: string; logger: Logger }): Router {
  const router = Router();
  router.post('/providers/:providerId', validate(smsActivateWebhook), async (req, res) => {
    const { params, query, body } = valid(res, smsActivateWebhook);
    if (!sameSecret(query.secret ?? req.get('X-Webhook-Secret'), deps.secret)) {
      throw new AppError('WEBHOOK_UNAUTHORIZED', 401, 'Bad webhook secret.');
    }
    const activation = await deps.db.activation.findUnique({
      where: { providerId_upstreamId: { providerId: params.providerId, upstreamId: body.activationId } },
      select: { id: true, status: true },
    });
    if (!activation) {
      deps.logger.warn({ providerId: params.providerId, upstreamId: body.activationId }, 'webhook for an unknown activation');
      res.json({ ok: true, matched: false });
      return;
    }
    const sms = { code: body.code, text: body.text || body.code || '', receivedAt: toIso(body.receivedAt), source: 'webhook' as const };
    if (activation.status === 'ACTIVE' || activation.status === 'RESERVED') {
      try {
        await deps.temporal.workflow.getHandle(activation.id).signal(smsReceivedSignal, sms);
        res.json({ ok: true, matched: true });
        return;
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        // The workflow closed between our read and the signal: a late SMS, handled below.
      }
    }
    // An SMS for an activation that has ended (often refunded): never dropped silently — an
    // admin sees it in the incidents list and decides (the customer was not charged).
    await recordLateSms(deps.db, { providerId: params.providerId, upstreamId: body.activationId, activationId: activation.id, sms });
    deps.logger.warn({ activationId: activation.id, providerId: params.providerId }, 'SMS after the activation ended: recorded as an incident');
    res.json({ ok: true, matched: true, late: true });
  });
  return router;
}

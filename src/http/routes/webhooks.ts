import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { SmsIntake } from '../../activations/sms-intake';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { cleanCode, cleanText } from '../../lib/text';
import { valid, validate } from '../middleware/validate';

/** SMS-Activate's activation webhook (spec 2.7); `activationId` may come as a number or a string. */
const smsActivateWebhook = {
  params: z.object({ providerId: z.string().regex(/^[a-z0-9-]{2,40}$/) }),
  query: z.object({ secret: z.string().optional() }),
  body: z.object({
    activationId: z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String),
    service: z.string().optional(),
    // A provider's SMS is cleaned, never refused (src/lib/text.ts): the customer paid for it.
    text: z.string().max(2000).default('').transform(cleanText),
    code: z.union([z.string(), z.number()]).nullish().transform(cleanCode),
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

/**
 * Provider webhooks hand their SMS to the activations' intake (match, signal or late-SMS
 * incident). Providers sign nothing, so the URL carries a shared secret (`?secret=`, or the
 * X-Webhook-Secret header). Unknown activations are acknowledged (a provider retrying forever
 * helps no one) and logged.
 */
export function webhookRoutes(deps: { intake: SmsIntake; secret: string; logger: Logger }): Router {
  const router = Router();
  router.post('/providers/:providerId', validate(smsActivateWebhook), async (req, res) => {
    const { params, query, body } = valid(res, smsActivateWebhook);
    if (!sameSecret(query.secret ?? req.get('X-Webhook-Secret'), deps.secret)) {
      throw new AppError('WEBHOOK_UNAUTHORIZED', 'Bad webhook secret.');
    }
    const sms = { code: body.code, text: body.text || body.code || '', receivedAt: toIso(body.receivedAt), source: 'webhook' as const };
    const outcome = await deps.intake.deliver(params.providerId, body.activationId, sms);
    switch (outcome.kind) {
      case 'unknown':
        deps.logger.warn({ providerId: params.providerId, upstreamId: body.activationId }, 'webhook for an unknown activation');
        res.json({ ok: true, matched: false });
        return;
      case 'signalled':
        res.json({ ok: true, matched: true });
        return;
      case 'failed':
        // Not acknowledged: the provider delivers it again.
        throw outcome.error;
      default:
        res.json({ ok: true, matched: true, late: true });
    }
  });
  return router;
}

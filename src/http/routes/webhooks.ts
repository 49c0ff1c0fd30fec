import { randomBytes } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { SmsIntake } from '../../activations/sms-intake';
import { safeEqual, sha256Hex } from '../../auth/tokens';
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

const PROVIDER_ID = /^[a-z0-9-]{2,40}$/;

/** What an unknown provider's "expected secret" is compared with, so that path does the same work. */
const NO_SECRET = randomBytes(32).toString('base64url');

/**
 * The secret, before anything else reads the request: no schema error, no provider lookup result
 * and no timing tells an unauthenticated caller anything. Hashing both sides first makes the
 * comparison constant-time whatever their lengths; an unknown provider and a wrong secret get the
 * same 401.
 */
function requireWebhookSecret(secretFor: (providerId: string) => Promise<string | null>): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('X-Webhook-Secret');
    const query = (req.query as Record<string, unknown>).secret;
    const given = header ?? (typeof query === 'string' ? query : '');
    const providerId = String(req.params.providerId ?? '');
    (PROVIDER_ID.test(providerId) ? secretFor(providerId) : Promise.resolve(null)).then((expected) => {
      const matches = safeEqual(sha256Hex(given), sha256Hex(expected ?? NO_SECRET));
      if (!matches || expected === null || given === '') return next(new AppError('WEBHOOK_UNAUTHORIZED', 'Bad webhook secret.'));
      next();
    }, next);
  };
}

/** "YYYY-MM-DD HH:MM:SS" (provider time, taken as UTC) → ISO; anything unparsable → now. */
function toIso(receivedAt: string | undefined): string {
  const parsed = receivedAt ? Date.parse(receivedAt.replace(' ', 'T') + (receivedAt.includes('Z') ? '' : 'Z')) : NaN;
  return new Date(Number.isNaN(parsed) ? Date.now() : parsed).toISOString();
}

/**
 * Provider webhooks hand their SMS to the activations' intake (match, signal or late-SMS
 * incident). Providers sign nothing, so each request carries the provider's secret: in the
 * X-Webhook-Secret header where the provider can send one, else `?secret=` in the URL (for
 * providers that only call a URL; never logged). Each provider has its own secret (set in the
 * admin API), or the global PROVIDER_WEBHOOK_SECRET until it gets one. Rate-limited per IP.
 * Unknown activations are acknowledged (a provider retrying forever helps no one) and logged.
 */
export function webhookRoutes(deps: { intake: SmsIntake; secretFor: (providerId: string) => Promise<string | null>; limit: RequestHandler; logger: Logger }): Router {
  const router = Router();
  router.post('/providers/:providerId', deps.limit, requireWebhookSecret(deps.secretFor), validate(smsActivateWebhook), async (req, res) => {
    const { params, body } = valid(res, smsActivateWebhook);
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

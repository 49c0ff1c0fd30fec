import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { PartnerEvents } from '../../activations/partner-events';
import { WEBHOOK_FORMATS, type PartnerWebhookService } from '../../auth/partner-webhooks.service';
import type { ApiKeyScope } from '../../auth/api-keys.service';
import type { AuditLog } from '../../lib/audit';
import { currentUser } from '../middleware/auth';
import { clientIp } from '../middleware/rate-limit';
import { valid, validate, type RequestSchema } from '../middleware/validate';
import { positiveMicros } from '../schemas';

/**
 * Webhook settings, the delivery log and replay (docs/webhooks.md): the same services for the
 * partner API (/api/v1/webhook…, entries of its route table) and the web app (/api/webhook,
 * bearer access token), so the two can never disagree.
 */

export const webhookViewSchema = z.object({
  url: z.url(),
  enabled: z.boolean(),
  format: z.enum(WEBHOOK_FORMATS).describe('SIMGATE: every event, signed JSON; SMS_ACTIVATE: sms.received only, as SMS-Activate posts it'),
  balanceLowThresholdMicros: z.string().nullable().describe('balance.low when a capture leaves less than this available (micro-dollars)'),
  disabledAt: z.iso.datetime().nullable().describe('Set when SimGate disabled the endpoint after a day of failed deliveries'),
  disabledReason: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const webhookSettingsBody = {
  body: z
    .object({
      url: z.url({ protocol: /^https?$/ }).max(2000),
      enabled: z.boolean().default(true).describe('true also re-enables an endpoint SimGate disabled'),
      rotateSecret: z.boolean().default(false).describe('Generate a new signing secret (returned once)'),
      format: z.enum(WEBHOOK_FORMATS).optional().describe('Default SIMGATE; unchanged when absent'),
      balanceLowThresholdMicros: positiveMicros.nullable().optional().describe('null: no balance.low events; unchanged when absent'),
    })
    .strict(),
};

const deliverySchema = z.object({
  eventId: z.string(),
  type: z.string().describe('activation.active, sms.received, activation.completed, activation.expired, activation.cancelled, balance.low'),
  activationId: z.string().nullable(),
  status: z.enum(['PENDING', 'DELIVERED', 'FAILED']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastResponseMs: z.number().int().nullable(),
  lastAttemptAt: z.iso.datetime().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  body: z.string().describe('The body as sent and signed'),
});

const deliveriesQuery = {
  query: z.object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    status: z.enum(['PENDING', 'DELIVERED', 'FAILED']).optional(),
    cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/).optional().describe('nextCursor of the previous page'),
  }),
};
const byEvent = { params: z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9_-]{32}$/, 'not an event id') }) };

export interface PartnerWebhookRouteDeps {
  partnerWebhooks: PartnerWebhookService;
  partnerEvents: PartnerEvents;
  audit: AuditLog;
}

/** The shape of a /api/v1 route-table entry (routes/v1.ts), declared here so the two files do not import each other. */
interface PartnerRoute {
  method: 'get' | 'post';
  path: string;
  summary: string;
  scope: ApiKeyScope;
  request: RequestSchema;
  status: number;
  response: z.ZodType;
  handle(req: Request, res: Response): Promise<unknown>;
}

async function listDeliveries(deps: PartnerWebhookRouteDeps, req: Request, res: Response) {
  const { query } = valid(res, deliveriesQuery);
  return deps.partnerEvents.listDeliveries(currentUser(req).id, { limit: query.limit, status: query.status, before: query.cursor });
}

async function replay(deps: PartnerWebhookRouteDeps, req: Request, res: Response) {
  const { params } = valid(res, byEvent);
  const user = currentUser(req);
  const delivery = await deps.partnerEvents.replay(user.id, params.eventId);
  await deps.audit.record({ action: 'webhook.replay', actorId: user.id, targetType: 'webhook_delivery', targetId: params.eventId, ip: clientIp(req), details: { type: delivery.type } });
  return { delivery };
}

/** /api/v1 entries: the delivery log and replay (the settings routes stay in v1.ts). */
export function webhookDeliveryV1Routes(deps: PartnerWebhookRouteDeps): PartnerRoute[] {
  return [
    {
      method: 'get',
      path: '/webhook/deliveries',
      summary: 'Your webhook delivery log, newest first (status, attempts, last error, response time)',
      scope: 'read',
      request: deliveriesQuery,
      status: 200,
      response: z.object({ deliveries: z.array(deliverySchema), nextCursor: z.string().nullable() }),
      handle: (req, res) => listDeliveries(deps, req, res),
    },
    {
      method: 'post',
      path: '/webhook/deliveries/:eventId/replay',
      summary: 'Send an event again (same id and body, new signature); 409 WEBHOOK_DISABLED while the endpoint is off',
      scope: 'purchase',
      request: byEvent,
      status: 200,
      response: z.object({ delivery: deliverySchema }),
      handle: (req, res) => replay(deps, req, res),
    },
  ];
}

/** /api/webhook: the web app's API keys page (signed-in users). */
export function partnerWebhookRoutes(deps: PartnerWebhookRouteDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json({ webhook: await deps.partnerWebhooks.get(currentUser(req).id) });
  });
  router.put('/', validate(webhookSettingsBody), async (req, res) => {
    const { body } = valid(res, webhookSettingsBody);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.partnerWebhooks.put(currentUser(req).id, body, { ip: clientIp(req) }));
  });
  router.get('/deliveries', validate(deliveriesQuery), async (req, res) => {
    res.json(await listDeliveries(deps, req, res));
  });
  router.post('/deliveries/:eventId/replay', validate(byEvent), async (req, res) => {
    res.json(await replay(deps, req, res));
  });
  return router;
}

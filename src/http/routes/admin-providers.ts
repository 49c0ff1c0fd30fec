import { Router } from 'express';
import { z } from 'zod';
import { providerConfigSchema } from '../../config/providers.config';
import type { AdminReports } from '../../activations/reports';
import type { IncidentService } from '../../providers/incidents.service';
import type { ProviderAdminService } from '../../providers/provider-admin.service';
import { actorOf } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { countryIso, pgBigint, serviceCode } from '../schemas';

const providerId = z.object({ id: z.string().regex(/^[a-z0-9-]{2,40}$/) });
const create = { body: providerConfigSchema.strict() };
const update = {
  params: providerId,
  body: providerConfigSchema.omit({ id: true }).partial().extend({ enabled: z.boolean().optional() }).strict(),
};
const markup = {
  params: providerId,
  body: z
    .object({
      serviceCode: z.string().trim().min(1).max(40).default('*'),
      countryIso: z.union([z.literal('*'), z.string().regex(/^[A-Za-z]{2}$/).transform((s) => s.toUpperCase())]).default('*'),
      markupBps: z.number().int().min(0).max(100_000).nullable(),
    })
    .strict(),
};
const byProvider = { params: providerId };
const testPurchase = { params: providerId, body: z.object({ service: serviceCode, country: countryIso }).strict() };
const webhookSecret = {
  params: providerId,
  // Omitted: a random one is generated; null: removed (the global PROVIDER_WEBHOOK_SECRET applies again).
  body: z.object({ webhookSecret: z.string().min(32).max(200).nullable().optional() }).strict().default({}),
};
const incidentsQuery = { query: z.object({ open: z.enum(['true', 'false']).default('true'), limit: z.coerce.number().int().min(1).max(200).default(100) }) };
const byIncident = { params: z.object({ id: pgBigint }) };

/** /api/admin/providers and /api/admin/incidents (mounted behind requireUser + requireAdmin). */
export function adminProviderRoutes(deps: { providerAdmin: ProviderAdminService; incidents: IncidentService; reports: AdminReports }): Router {
  const router = Router();
  const { providerAdmin, incidents } = deps;

  router.get('/providers', async (_req, res) => {
    const [providers, delivery] = await Promise.all([providerAdmin.list(), deps.reports.deliveryByProvider(24)]);
    res.json({ providers: providers.map((p) => ({ ...p, delivery: delivery.get(p.id) ?? { bought: 0, delivered: 0, rate: null } })) });
  });

  /** The provider's own balance, asked now (one upstream call). */
  router.get('/providers/:id/balance', validate(byProvider), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ balance: await providerAdmin.balance(valid(res, byProvider).params.id) });
  });

  router.post('/providers', validate(create), async (req, res) => {
    res.status(201).json({ provider: await providerAdmin.create(valid(res, create).body, actorOf(req)) });
  });

  router.patch('/providers/:id', validate(update), async (req, res) => {
    const { params, body } = valid(res, update);
    res.json({ provider: await providerAdmin.update(params.id, body, actorOf(req)) });
  });

  router.put('/providers/:id/markups', validate(markup), async (req, res) => {
    const { params, body } = valid(res, markup);
    res.json({ provider: await providerAdmin.setMarkup(params.id, body, actorOf(req)) });
  });

  router.post('/providers/:id/sync', validate(byProvider), async (req, res) => {
    res.json(await providerAdmin.sync(valid(res, byProvider).params.id, actorOf(req)));
  });

  /** Buys one number at this provider and cancels it at once: does the provider sell, and how fast? */
  router.post('/providers/:id/test-purchase', validate(testPurchase), async (req, res) => {
    const { params, body } = valid(res, testPurchase);
    res.json({ result: await providerAdmin.testPurchase(params.id, { serviceCode: body.service, countryIso: body.country }, actorOf(req)) });
  });

  /** Sets or rotates the provider's own webhook secret; the answer is the only time it is shown. */
  router.post('/providers/:id/webhook-secret', validate(webhookSecret), async (req, res) => {
    const { params, body } = valid(res, webhookSecret);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await providerAdmin.setWebhookSecret(params.id, body.webhookSecret, actorOf(req)));
  });

  router.post('/providers/rotate-keys', async (req, res) => {
    res.json(await providerAdmin.rotateKeys(actorOf(req)));
  });

  router.get('/incidents', validate(incidentsQuery), async (_req, res) => {
    const { query } = valid(res, incidentsQuery);
    res.json({ incidents: await incidents.list({ open: query.open === 'true', limit: query.limit }) });
  });

  router.post('/incidents/:id/resolve', validate(byIncident), async (req, res) => {
    await incidents.resolve(valid(res, byIncident).params.id, actorOf(req));
    res.json({ ok: true });
  });

  return router;
}

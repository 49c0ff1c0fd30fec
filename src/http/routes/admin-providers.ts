import { Router } from 'express';
import { z } from 'zod';
import type { CatalogService } from '../../catalog/catalog.service';
import { providerConfigSchema } from '../../config/providers.config';
import type { Db } from '../../db/client';
import type { AuditAction, AuditLog } from '../../lib/audit';
import { AppError, notFound } from '../../lib/errors';
import type { SecretBox } from '../../lib/secrets';
import type { ProviderHealth } from '../../providers/health';
import { configToRow, PROVIDER_KEY_PURPOSE, type ProviderRegistry } from '../../providers/registry';
import { currentUser } from '../middleware/auth';
import { clientIp } from '../middleware/rate-limit';
import { valid, validate } from '../middleware/validate';

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
const incidentsQuery = { query: z.object({ open: z.enum(['true', 'false']).default('true'), limit: z.coerce.number().int().min(1).max(200).default(100) }) };

/**
 * /api/admin/providers and /api/admin/incidents: providers are data — added, re-keyed, enabled and
 * priced here, never in code. API keys are write-only (stored encrypted, never returned).
 */
export function adminProviderRoutes(deps: { db: Db; secrets: SecretBox; audit: AuditLog; catalog: CatalogService; providers: ProviderRegistry; health: ProviderHealth }): Router {
  const router = Router();
  const view = async (row: Awaited<ReturnType<Db['provider']['findUniqueOrThrow']>>) => ({
    id: row.id,
    displayName: row.displayName,
    protocol: row.protocol,
    enabled: row.enabled,
    baseUrl: row.baseUrl,
    hasApiKey: row.apiKey !== '',
    keyNeedsRotation: row.apiKey !== '' && deps.secrets.needsRotation(row.apiKey),
    usdRate: row.usdRate,
    markupBps: row.markupBps,
    lifetimeSeconds: row.lifetimeSeconds,
    minCancelSeconds: row.minCancelSeconds,
    countryIds: row.countryIds,
    breaker: await deps.health.state(row.id).catch(() => null),
    markupOverrides: (await deps.db.markupOverride.findMany({ where: { providerId: row.id } })).map((o) => ({ serviceCode: o.serviceCode, countryIso: o.countryIso, markupBps: o.markupBps })),
  });
  const audit = (req: Parameters<typeof currentUser>[0], action: AuditAction, targetId: string, details: Record<string, unknown> = {}) =>
    deps.audit.record({ action, actorId: currentUser(req).id, targetType: 'provider', targetId, ip: clientIp(req), details });

  router.get('/providers', async (_req, res) => {
    const rows = await deps.db.provider.findMany({ orderBy: { id: 'asc' } });
    res.json({ providers: await Promise.all(rows.map(view)) });
  });

  router.post('/providers', validate(create), async (req, res) => {
    const { body } = valid(res, create);
    if (await deps.db.provider.findUnique({ where: { id: body.id } })) throw new AppError('PROVIDER_EXISTS', 409, `Provider "${body.id}" already exists.`);
    const row = await deps.db.provider.create({ data: { id: body.id, ...configToRow(body, deps.secrets) } });
    await audit(req, 'admin.provider.create', row.id, { protocol: row.protocol, baseUrl: row.baseUrl });
    res.status(201).json({ provider: await view(row) });
  });

  router.patch('/providers/:id', validate(update), async (req, res) => {
    const { params, body } = valid(res, update);
    const existing = await deps.db.provider.findUnique({ where: { id: params.id } });
    if (!existing) throw notFound('PROVIDER_NOT_FOUND', 'No such provider.');
    const { apiKey, enabled, ...rest } = body;
    const row = await deps.db.provider.update({
      where: { id: params.id },
      data: { ...rest, ...(enabled === undefined ? {} : { enabled }), ...(apiKey ? { apiKey: deps.secrets.encrypt(apiKey, PROVIDER_KEY_PURPOSE) } : {}) },
    });
    await audit(req, 'admin.provider.update', row.id, { fields: Object.keys(body).map((k) => (k === 'apiKey' ? 'apiKey(redacted)' : k)) });
    res.json({ provider: await view(row) });
  });

  /** Sets (or with markupBps null removes) a markup override; applied at the next catalog sync. */
  router.put('/providers/:id/markups', validate(markup), async (req, res) => {
    const { params, body } = valid(res, markup);
    if (!(await deps.db.provider.findUnique({ where: { id: params.id } }))) throw notFound('PROVIDER_NOT_FOUND', 'No such provider.');
    const key = { providerId_serviceCode_countryIso: { providerId: params.id, serviceCode: body.serviceCode, countryIso: body.countryIso } };
    if (body.markupBps === null) await deps.db.markupOverride.deleteMany({ where: { providerId: params.id, serviceCode: body.serviceCode, countryIso: body.countryIso } });
    else await deps.db.markupOverride.upsert({ where: key, create: { providerId: params.id, serviceCode: body.serviceCode, countryIso: body.countryIso, markupBps: body.markupBps }, update: { markupBps: body.markupBps } });
    await audit(req, 'admin.provider.markup', params.id, body);
    res.json({ provider: await view(await deps.db.provider.findUniqueOrThrow({ where: { id: params.id } })) });
  });

  /** Pulls this provider's prices now (the schedule does it every few minutes anyway). */
  router.post('/providers/:id/sync', validate({ params: providerId }), async (req, res) => {
    const { params } = valid(res, { params: providerId });
    const { config, adapter } = await deps.providers.get(params.id).catch(() => {
      throw notFound('PROVIDER_NOT_FOUND', 'No such provider with credentials.');
    });
    const result = await deps.catalog.syncProviderOffers(config, adapter);
    await deps.catalog.search.indexCatalog();
    await audit(req, 'admin.provider.sync', params.id, result);
    res.json(result);
  });

  /** Re-encrypts every provider key under the newest SECRETS_KEYS version. */
  router.post('/providers/rotate-keys', async (req, res) => {
    let rotated = 0;
    for (const row of await deps.db.provider.findMany({ where: { apiKey: { not: '' } } })) {
      if (!deps.secrets.needsRotation(row.apiKey)) continue;
      await deps.db.provider.update({ where: { id: row.id }, data: { apiKey: deps.secrets.rotate(row.apiKey, PROVIDER_KEY_PURPOSE) } });
      rotated += 1;
    }
    await audit(req, 'admin.provider.rotate-keys', '*', { rotated });
    res.json({ rotated });
  });

  router.get('/incidents', validate(incidentsQuery), async (_req, res) => {
    const { query } = valid(res, incidentsQuery);
    const rows = await deps.db.upstreamIncident.findMany({
      where: query.open === 'true' ? { resolvedAt: null } : undefined,
      orderBy: { id: 'desc' },
      take: query.limit,
    });
    res.json({ incidents: rows.map((r) => ({ ...r, id: r.id.toString(), createdAt: r.createdAt.toISOString(), resolvedAt: r.resolvedAt?.toISOString() ?? null })) });
  });

  router.post('/incidents/:id/resolve', validate({ params: z.object({ id: z.coerce.bigint() }) }), async (req, res) => {
    const { params } = valid(res, { params: z.object({ id: z.coerce.bigint() }) });
    const updated = await deps.db.upstreamIncident.updateMany({ where: { id: params.id, resolvedAt: null }, data: { resolvedAt: new Date() } });
    if (updated.count === 0) throw notFound('INCIDENT_NOT_FOUND', 'No open incident with this id.');
    await deps.audit.record({ action: 'admin.incident.resolve', actorId: currentUser(req).id, targetType: 'incident', targetId: params.id.toString(), ip: clientIp(req) });
    res.json({ ok: true });
  });

  return router;
}

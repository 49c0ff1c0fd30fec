import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError, badRequest, conflict, notFound } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { decimalToMicros } from '../lib/money';
import type { Offer } from './catalog';
import type { SimClock } from './clock';
import { formatAmount, type SimActivation, type SimTenant } from './tenant';

/**
 * The simulator's control API, mounted at /control: what tests and demos use to script a
 * provider (stock, prices, balance, faults, SMS arrivals, time). A dev tool bound to
 * 127.0.0.1, so no auth; every body is validated and a bad one gets a 400 naming the problem.
 */
export interface ControlContext {
  tenants: ReadonlyMap<string, SimTenant>;
  clock: SimClock;
  /** Settles every tenant against the clock (after the clock moves). */
  sweep(): void;
  logger: Logger;
}

const amount = z
  .union([z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal such as "0.35"'), z.number().nonnegative().finite()])
  .transform((value) => decimalToMicros(value));

const autoSmsSchema = z
  .strictObject({
    probability: z.number().min(0).max(1),
    minDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
  })
  .refine((auto) => auto.minDelayMs <= auto.maxDelayMs, { message: 'minDelayMs must not exceed maxDelayMs', path: ['maxDelayMs'] });

const schemas = {
  clock: z.strictObject({ advanceMs: z.number().int().min(0) }),
  offer: z.strictObject({ stock: z.number().int().min(0).optional(), price: amount.optional() }),
  balance: z.strictObject({ balance: amount }),
  fault: z.strictObject({
    action: z.string().min(1).optional(),
    times: z.number().int().min(1),
    reply: z.union([
      z.strictObject({ status: z.number().int().min(100).max(599), body: z.string().optional() }),
      z.strictObject({ token: z.string().regex(/^[A-Z_]+(:.*)?$/, 'a handler_api token such as ERROR_SQL') }),
      z.strictObject({ latencyMs: z.number().int().min(0).max(60_000) }),
      z.strictObject({ hangUp: z.literal(true) }),
    ]),
  }),
  settings: z.strictObject({
    webhookUrl: z.url().nullable().optional(),
    autoSms: autoSmsSchema.nullable().optional(),
    minCancelMs: z.number().int().min(0).optional(),
    lifetimeMs: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
  }),
  sms: z.strictObject({ code: z.string().min(1).max(32), text: z.string().min(1).max(1000).optional() }),
};

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw badRequest('VALIDATION_FAILED', 'invalid request body', {
      issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return result.data;
}

export function controlRouter(context: ControlContext): Router {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));

  const tenantOf = (req: Request): SimTenant => {
    const tenant = context.tenants.get(String(req.params.tenant));
    if (!tenant) throw notFound('UNKNOWN_TENANT', `no tenant ${String(req.params.tenant)}`);
    tenant.sweep();
    return tenant;
  };
  const activationOf = (tenant: SimTenant, req: Request): SimActivation => {
    const id = Number(req.params.id);
    const activation = Number.isSafeInteger(id) ? tenant.find(id) : undefined;
    if (!activation) throw notFound('UNKNOWN_ACTIVATION', `no activation ${String(req.params.id)} at ${tenant.id}`);
    return activation;
  };
  const clockView = () => ({ now: new Date(context.clock.now()).toISOString(), offsetMs: context.clock.offsetMs });

  router.get('/tenants', (_req, res) => {
    res.json({ tenants: [...context.tenants.values()].map(tenantView) });
  });

  router.get('/clock', (_req, res) => {
    res.json(clockView());
  });
  router.post('/clock', (req, res) => {
    const { advanceMs } = parse(schemas.clock, req.body);
    context.clock.advance(advanceMs);
    // Expire now rather than on the next touch, so nothing fires for an activation that is over.
    context.sweep();
    res.json(clockView());
  });

  router.get('/:tenant', (req, res) => {
    res.json(tenantView(tenantOf(req)));
  });
  router.post('/:tenant/reset', (req, res) => {
    const tenant = tenantOf(req);
    tenant.reset();
    res.json(tenantView(tenant));
  });

  router.get('/:tenant/offers', (req, res) => {
    const service = typeof req.query.service === 'string' ? req.query.service : undefined;
    const country = typeof req.query.country === 'string' ? req.query.country : undefined;
    res.json({ offers: tenantOf(req).catalog.listOffers({ service, country }).map(offerView) });
  });
  router.put('/:tenant/offers/:service/:country', (req, res) => {
    const tenant = tenantOf(req);
    const body = parse(schemas.offer, req.body);
    const service = String(req.params.service);
    const country = String(req.params.country);
    if (!/^[a-z0-9]{1,10}$/.test(service) || !/^\d{1,4}$/.test(country)) {
      throw badRequest('VALIDATION_FAILED', 'service must be a lower-case provider code and country a numeric id');
    }
    const existing = tenant.catalog.offer(service, country);
    const stock = body.stock ?? existing?.stock;
    const priceMicros = body.price ?? existing?.priceMicros;
    if (stock === undefined || priceMicros === undefined) throw badRequest('VALIDATION_FAILED', 'a new offer needs both stock and price');
    res.json(offerView(tenant.setOffer({ service, country, stock, priceMicros })));
  });

  router.put('/:tenant/balance', (req, res) => {
    const tenant = tenantOf(req);
    tenant.setBalance(parse(schemas.balance, req.body).balance);
    res.json({ balance: formatAmount(tenant.balanceMicros) });
  });

  router.get('/:tenant/faults', (req, res) => {
    res.json({ faults: tenantOf(req).faults.list() });
  });
  router.post('/:tenant/faults', (req, res) => {
    const tenant = tenantOf(req);
    tenant.faults.add(parse(schemas.fault, req.body));
    res.status(201).json({ faults: tenant.faults.list() });
  });
  router.delete('/:tenant/faults', (req, res) => {
    const tenant = tenantOf(req);
    tenant.faults.clear();
    res.json({ faults: [] });
  });

  router.patch('/:tenant/settings', (req, res) => {
    const tenant = tenantOf(req);
    const patch = parse(schemas.settings, req.body);
    // Only the keys the caller sent: `undefined` must not overwrite a setting.
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    res.json({ settings: tenant.updateSettings(defined) });
  });

  router.get('/:tenant/activations', (req, res) => {
    res.json({ activations: tenantOf(req).list().map(activationView) });
  });
  router.get('/:tenant/activations/:id', (req, res) => {
    const tenant = tenantOf(req);
    res.json(activationView(activationOf(tenant, req)));
  });
  router.post('/:tenant/activations/:id/sms', (req, res) => {
    const tenant = tenantOf(req);
    const body = parse(schemas.sms, req.body);
    const activation = activationOf(tenant, req);
    const delivered = tenant.deliverSms(activation.id, body);
    if (!delivered) {
      throw conflict('NOT_WAITING', `activation ${activation.id} is ${activation.state}, not waiting for an SMS`, { state: activation.state });
    }
    res.json(activationView(delivered));
  });

  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof AppError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } });
      return;
    }
    if (isBodyParserError(error)) {
      res.status(400).json({ error: { code: 'INVALID_JSON', message: 'the request body is not valid JSON' } });
      return;
    }
    context.logger.error({ err: error }, 'control API failure');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  return router;
}

function isBodyParserError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'entity.parse.failed';
}

function tenantView(tenant: SimTenant) {
  return {
    id: tenant.id,
    apiKey: tenant.apiKey,
    errorStyle: tenant.errorStyle,
    defaultCountry: tenant.defaultCountry,
    cancelAlreadyReply: tenant.cancelAlreadyReply,
    balance: formatAmount(tenant.balanceMicros),
    settings: tenant.settings,
    activeActivations: tenant.active().length,
    faults: tenant.faults.list(),
  };
}

function offerView(offer: Offer) {
  return { service: offer.service, country: offer.country, stock: offer.stock, price: formatAmount(offer.priceMicros) };
}

function activationView(activation: SimActivation) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: activation.id,
    service: activation.service,
    country: activation.country,
    phone: activation.phone,
    operator: activation.operator,
    cost: formatAmount(activation.costMicros),
    state: activation.state,
    codes: activation.sms.map((sms) => sms.code),
    sms: activation.sms.map((sms) => ({ code: sms.code, text: sms.text, receivedAt: iso(sms.receivedAt) })),
    createdAt: iso(activation.createdAt),
    expiresAt: iso(activation.expiresAt),
    endedAt: iso(activation.endedAt),
  };
}

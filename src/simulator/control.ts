import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { amountToMicros, formatAmount } from './amount';
import type { Offer } from './catalog';
import type { SimClock } from './clock';
import { FivesimTenant } from './fivesim/tenant';
import { scenarioSchema } from './scenarios';
import type { SimOrder } from './tenant-base';
import type { AnyTenant } from './tenants';

/**
 * The simulator's control API, mounted at /control: what tests and demos use to script a
 * provider (stock, prices, balance, faults, scenarios, SMS arrivals, time). A dev tool bound to
 * 127.0.0.1, so no auth; every body is validated and a bad one gets a 400 naming the problem.
 * Every route works for handler_api and 5sim tenants alike; offers and activations are named in
 * the tenant's own codes (`tg`/`6`, or `telegram`/`england` plus an operator on 5sim).
 */
export interface ControlContext {
  tenants: ReadonlyMap<string, AnyTenant>;
  clock: SimClock;
  /** Settles every tenant against the clock (after the clock moves). */
  sweep(): void;
  logger: Logger;
}

/** A refused control request, rendered as `{"error": {"code", "message", "details"?}}` with its status. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

const badRequest = (code: string, message: string, details?: Record<string, unknown>) => new ControlError(400, code, message, details);
const notFound = (code: string, message: string) => new ControlError(404, code, message);
const conflict = (code: string, message: string, details?: Record<string, unknown>) => new ControlError(409, code, message, details);

const amount = z
  .union([z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal such as "0.35"'), z.number().nonnegative().finite()])
  .transform((value) => amountToMicros(value));

const autoSmsSchema = z
  .strictObject({
    probability: z.number().min(0).max(1),
    minDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
  })
  .refine((auto) => auto.minDelayMs <= auto.maxDelayMs, { message: 'minDelayMs must not exceed maxDelayMs', path: ['maxDelayMs'] });

const schemas = {
  clock: z.strictObject({ advanceMs: z.number().int().min(0) }),
  offer: z.strictObject({
    stock: z.number().int().min(0).optional(),
    price: amount.optional(),
    /** 5sim only: the operator this offer is for (see the route). */
    operator: z.string().regex(/^[a-z0-9]{1,40}$/, 'a lower-case 5sim operator name').optional(),
    /** 5sim only: delivery success %, null for "unknown" (absent from /guest/prices). */
    rate: z.number().min(0).max(100).nullable().optional(),
  }),
  balance: z.strictObject({ balance: amount }),
  fault: z.strictObject({
    action: z.string().min(1).optional(),
    times: z.number().int().min(1),
    reply: z.union([
      z.strictObject({ status: z.number().int().min(100).max(599), body: z.string().optional() }),
      z.strictObject({ token: z.string().regex(/^[A-Z_]+(:.*)?$/, 'a handler_api token such as ERROR_SQL') }),
      z.strictObject({ latencyMs: z.number().int().min(0).max(60_000) }),
      z.strictObject({ hangUp: z.literal(true) }),
      z.strictObject({ hangUpAfterMs: z.number().int().min(1).max(120_000) }),
      z.strictObject({ serveThenHangUpAfterMs: z.number().int().min(1).max(120_000) }),
    ]),
  }),
  settings: z.strictObject({
    webhookUrl: z.url().nullable().optional(),
    autoSms: autoSmsSchema.nullable().optional(),
    minCancelMs: z.number().int().min(0).optional(),
    lifetimeMs: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    /** 5sim only. */
    allocationDelayMs: z.number().int().min(0).optional(),
    /** 5sim only; null lifts the limit. */
    rateLimitPerSecond: z.number().int().min(1).nullable().optional(),
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

  const tenantOf = (req: Request): AnyTenant => {
    const tenant = context.tenants.get(String(req.params.tenant));
    if (!tenant) throw notFound('UNKNOWN_TENANT', `no tenant ${String(req.params.tenant)}`);
    tenant.sweep();
    return tenant;
  };
  const activationOf = (tenant: AnyTenant, req: Request): SimOrder => {
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
    const query = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
    res.json({ offers: tenantOf(req).catalog.listOffers({ service: query('service'), country: query('country'), operator: query('operator') }).map(offerView) });
  });
  /**
   * Creates or changes an offer. handler_api: `/offers/tg/6`. 5sim: `/offers/telegram/england`
   * with an optional `operator` in the body; without one, the pair is collapsed to a single
   * operator (its first, or `virtual21` for a new pair) carrying this stock and price, so a test
   * knows exactly what `operator=any` will buy.
   */
  router.put('/:tenant/offers/:service/:country', (req, res) => {
    const tenant = tenantOf(req);
    const body = parse(schemas.offer, req.body);
    const service = String(req.params.service);
    const country = String(req.params.country);
    if (tenant instanceof FivesimTenant) {
      if (!/^[a-z0-9]{1,40}$/.test(service) || !/^[a-z0-9]{1,40}$/.test(country)) {
        throw badRequest('VALIDATION_FAILED', 'service and country must be lower-case 5sim slugs');
      }
      const pair = tenant.catalog.listOffers({ service, country });
      const operator = body.operator ?? pair[0]?.operator ?? 'virtual21';
      const existing = tenant.catalog.offer(service, country, operator);
      const stock = body.stock ?? existing?.stock;
      const priceMicros = body.price ?? existing?.priceMicros;
      if (stock === undefined || priceMicros === undefined) throw badRequest('VALIDATION_FAILED', 'a new offer needs both stock and price');
      if (body.operator === undefined) for (const other of pair) if (other.operator !== operator) tenant.catalog.deleteOffer(other);
      const rate = body.rate !== undefined ? body.rate : (existing?.rate ?? null);
      res.json(offerView(tenant.setOffer({ service, country, operator, stock, priceMicros, rate })));
      return;
    }
    if (body.operator !== undefined || body.rate !== undefined) throw badRequest('VALIDATION_FAILED', 'operator and rate exist on 5sim tenants only');
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
    const fault = parse(schemas.fault, req.body);
    if (tenant instanceof FivesimTenant && 'token' in fault.reply) {
      throw badRequest('VALIDATION_FAILED', '5sim tenants have no handler_api tokens: use {status, body}, e.g. {"status": 400, "body": "order has sms"}');
    }
    tenant.faults.add(fault);
    res.status(201).json({ faults: tenant.faults.list() });
  });
  router.delete('/:tenant/faults', (req, res) => {
    const tenant = tenantOf(req);
    tenant.faults.clear();
    res.json({ faults: [] });
  });

  /** Scripted scenarios (scenarios.ts documents each one). */
  router.get('/:tenant/scenario', (req, res) => {
    res.json({ scenarios: tenantOf(req).scenarios.list() });
  });
  router.post('/:tenant/scenario', (req, res) => {
    const tenant = tenantOf(req);
    const scenario = parse(scenarioSchema, req.body);
    const result = tenant.applyScenario(scenario);
    if (!result.ok) throw notFound(result.code, result.message);
    res.status(201).json({ scenario, scenarios: tenant.scenarios.list(), faults: tenant.faults.list(), settings: tenant.settings });
  });
  router.delete('/:tenant/scenario', (req, res) => {
    const tenant = tenantOf(req);
    tenant.scenarios.clear();
    res.json({ scenarios: tenant.scenarios.list() });
  });

  router.patch('/:tenant/settings', (req, res) => {
    const tenant = tenantOf(req);
    const patch = parse(schemas.settings, req.body);
    if (!(tenant instanceof FivesimTenant) && (patch.allocationDelayMs !== undefined || patch.rateLimitPerSecond !== undefined)) {
      throw badRequest('VALIDATION_FAILED', 'allocationDelayMs and rateLimitPerSecond exist on 5sim tenants only');
    }
    // Only the keys the caller sent: `undefined` must not overwrite a setting.
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    res.json({ settings: tenant.updateSettings(defined) });
  });

  /** Every activation the tenant sold since its last reset, whatever became of it; `?phone=` narrows to one number. */
  router.get('/:tenant/activations', (req, res) => {
    // Digits only on both sides: callers hold E.164 (`+44…`), the wire formats differ on the `+`.
    const digits = (phone: string) => phone.replace(/\D/g, '');
    const phone = typeof req.query.phone === 'string' ? digits(req.query.phone) : undefined;
    const sold = tenantOf(req).list();
    res.json({ activations: (phone === undefined ? sold : sold.filter((activation) => digits(activation.phone) === phone)).map(activationView) });
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
    if (error instanceof ControlError) {
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

function tenantView(tenant: AnyTenant) {
  const common = {
    id: tenant.id,
    protocol: tenant.protocol,
    apiKey: tenant.apiKey,
    balance: formatAmount(tenant.balanceMicros),
    settings: tenant.settings,
    activeActivations: tenant.active().length,
    faults: tenant.faults.list(),
    scenarios: tenant.scenarios.list(),
  };
  if (tenant instanceof FivesimTenant) return { ...common, frozenBalance: formatAmount(tenant.frozenMicros()), looseNumbers: tenant.looseNumbers };
  return { ...common, errorStyle: tenant.errorStyle, defaultCountry: tenant.defaultCountry, cancelAlreadyReply: tenant.cancelAlreadyReply };
}

function offerView(offer: Offer) {
  return {
    service: offer.service,
    country: offer.country,
    ...(offer.operator === undefined ? {} : { operator: offer.operator, rate: offer.rate ?? null }),
    stock: offer.stock,
    price: formatAmount(offer.priceMicros),
  };
}

function activationView(activation: SimOrder) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const sms = (list: SimOrder['sms']) => list.map((item) => ({ code: item.code, text: item.text, receivedAt: iso(item.receivedAt) }));
  return {
    id: activation.id,
    service: activation.service,
    country: activation.country,
    phone: activation.phone,
    operator: activation.operator,
    cost: formatAmount(activation.costMicros),
    state: activation.state,
    codes: activation.sms.map((item) => item.code),
    sms: sms(activation.sms),
    lateSms: sms(activation.lateSms),
    createdAt: iso(activation.createdAt),
    expiresAt: iso(activation.expiresAt),
    endedAt: iso(activation.endedAt),
  };
}

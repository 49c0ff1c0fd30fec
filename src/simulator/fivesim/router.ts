import { Router, type Request, type Response } from 'express';
import { amountNumber } from '../amount';
import type { Logger } from 'pino';
import type { Offer } from '../catalog';
import type { TimerSet } from '../timers';
import { FivesimError, FivesimTenant, type FivesimOrder } from './tenant';
import { FIVESIM_STATUSES } from './state';
import { countriesJson, inboxJson, orderJson, priceJson, profileJson } from './wire';

/**
 * The 5sim v1 wire format (spec section 1), one API per tenant at `/<tenantId>/v1/...`.
 * Successes are JSON with `Content-Type: application/json` exactly; refusals are the lower-case
 * plain-text phrases of spec 1.6 with their HTTP codes — `no free phones` with HTTP 200.
 * `/user/*` needs `Authorization: Bearer <token>` (401 with an empty body otherwise, as seen
 * live); `/guest/*` is open and ignores the header.
 *
 * Not simulated (404 `record not found`): hosting orders, `reuse`, payments, max-prices, vendor.
 */
export interface FivesimApiContext {
  tenants: ReadonlyMap<string, { protocol: string }>;
  /** For injected latency and hangs, so close() can drop pending sleeps. */
  timers: TimerSet;
  logger: Logger;
}

type Reply = { status: number; json: unknown } | { status: number; text: string };
type Query = Record<string, string | undefined>;

interface Route {
  /** The fault-matching name (faults.ts). */
  action: string;
  guest: boolean;
  pattern: RegExp;
  handle(tenant: FivesimTenant, params: string[], query: Query): Reply;
}

const json = (body: unknown): Reply => ({ status: 200, json: body });
const SEGMENT = '([^/]+)';
/** Any segment: a non-numeric id is `order not found`, not a missing route. */
const ID = SEGMENT;

const ROUTES: Route[] = [
  { action: 'profile', guest: false, pattern: /^\/user\/profile$/, handle: (tenant) => json(profileJson(tenant)) },
  {
    action: 'buy',
    guest: false,
    pattern: new RegExp(`^/user/buy/activation/${SEGMENT}/${SEGMENT}/${SEGMENT}$`),
    handle: (tenant, [country, operator, product], query) => {
      const order = tenant.buy({
        country,
        operator,
        product,
        maxPrice: query.maxPrice,
        forwarding: flag(query.forwarding),
        forwardingNumber: query.number,
        reuse: flag(query.reuse),
        voice: flag(query.voice),
        // `ref` (referral key) is accepted and ignored.
      });
      return json(orderJson(tenant.catalog, order, { smsNull: true }));
    },
  },
  { action: 'check', guest: false, pattern: new RegExp(`^/user/check/${ID}$`), handle: (tenant, [id]) => json(orderJson(tenant.catalog, tenant.check(id))) },
  { action: 'finish', guest: false, pattern: new RegExp(`^/user/finish/${ID}$`), handle: (tenant, [id]) => json(orderJson(tenant.catalog, tenant.act(id, 'finish'))) },
  { action: 'cancel', guest: false, pattern: new RegExp(`^/user/cancel/${ID}$`), handle: (tenant, [id]) => json(orderJson(tenant.catalog, tenant.act(id, 'cancel'))) },
  { action: 'ban', guest: false, pattern: new RegExp(`^/user/ban/${ID}$`), handle: (tenant, [id]) => json(orderJson(tenant.catalog, tenant.act(id, 'ban'))) },
  { action: 'inbox', guest: false, pattern: new RegExp(`^/user/sms/inbox/${ID}$`), handle: (tenant, [id]) => json(inboxJson(tenant.catalog, tenant.check(id))) },
  { action: 'orders', guest: false, pattern: /^\/user\/orders$/, handle: (tenant, _params, query) => json(ordersPage(tenant, query)) },
  {
    action: 'products',
    guest: true,
    pattern: new RegExp(`^/guest/products/${SEGMENT}/${SEGMENT}$`),
    handle: (tenant, [country, operator]) => json(products(tenant, country, operator)),
  },
  { action: 'prices', guest: true, pattern: /^\/guest\/prices$/, handle: (tenant, _params, query) => json(prices(tenant, query)) },
  { action: 'countries', guest: true, pattern: /^\/guest\/countries$/, handle: (tenant) => json(countriesJson(tenant.catalog)) },
  {
    action: 'flash',
    guest: true,
    pattern: new RegExp(`^/guest/flash/${SEGMENT}$`),
    handle: (_tenant, [lang]) => json({ text: lang === 'ru' ? 'Симулятор 5sim: объявлений нет.' : 'Simulated 5sim: no notices.' }),
  },
];

export function fivesimRouter(context: FivesimApiContext): Router {
  const router = Router({ mergeParams: true });
  router.use('/:tenantId/v1', async (req: Request, res: Response, next) => {
    const tenant = context.tenants.get(String(req.params.tenantId));
    if (!(tenant instanceof FivesimTenant)) {
      next();
      return;
    }
    const log = context.logger.child({ tenant: tenant.id, path: req.path });
    try {
      if (!tenant.admitCall()) {
        writeBody(res, 429, TEXT, 'api limit is 100 requests per second');
        return;
      }
      if (tenant.settings.latencyMs > 0) await context.timers.sleep(tenant.settings.latencyMs);
      const matched = req.method === 'GET' || req.method === 'HEAD' ? match(req.path) : null;
      if (!matched) {
        writeBody(res, 404, TEXT, 'record not found');
        return;
      }
      const [route, params] = matched;
      const fault = tenant.faults.take(route.action);
      if (fault && 'latencyMs' in fault) await context.timers.sleep(fault.latencyMs);
      else if (fault && 'hangUpAfterMs' in fault) {
        log.debug({ fault }, 'injected hang');
        await context.timers.sleep(fault.hangUpAfterMs);
        req.socket.destroy();
        return;
      } else if (fault && 'hangUp' in fault) {
        req.socket.destroy();
        return;
      } else if (fault && !('serveThenHangUpAfterMs' in fault)) {
        log.debug({ fault }, 'injected fault');
        // The control API refuses handler_api tokens for 5sim tenants; `status` is what is left.
        if ('status' in fault) writeBody(res, fault.status, TEXT, fault.body ?? '');
        else writeBody(res, 400, TEXT, fault.token);
        return;
      }
      if (!route.guest && !authorised(req, tenant)) {
        writeBody(res, 401, TEXT, '');
        return;
      }
      tenant.sweep();
      const reply = route.handle(tenant, params, readQuery(req));
      if (fault && 'serveThenHangUpAfterMs' in fault) {
        // Done at the provider, reply lost: the caller has to find out what happened some other way.
        log.debug({ fault }, 'injected lost reply');
        await context.timers.sleep(fault.serveThenHangUpAfterMs);
        req.socket.destroy();
        return;
      }
      send(res, reply);
    } catch (error) {
      if (error instanceof FivesimError) {
        log.debug({ phrase: error.phrase, status: error.status }, '5sim refusal');
        writeBody(res, error.status, TEXT, error.phrase);
        return;
      }
      log.error({ err: error }, '5sim call failed');
      writeBody(res, 500, TEXT, 'internal error');
    }
  });
  return router;
}

const TEXT = 'text/plain; charset=utf-8';

function match(path: string): [Route, string[]] | null {
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    try {
      return [route, found.slice(1).map((segment) => decodeURIComponent(segment))];
    } catch {
      return null;
    }
  }
  return null;
}

function authorised(req: Request, tenant: FivesimTenant): boolean {
  const header = req.headers.authorization ?? '';
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return token === tenant.apiKey;
}

function readQuery(req: Request): Query {
  const query: Query = {};
  for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') query[key] = first;
  }
  return query;
}

const flag = (value: string | undefined) => value === '1' || value === 'true';

/** `GET /user/orders`: `category` is required; sorted by `order` (id, created_at, price, status), `reverse=true` for newest first. */
function ordersPage(tenant: FivesimTenant, query: Query) {
  if (query.category !== 'activation' && query.category !== 'hosting') throw new FivesimError(400, 'bad category');
  // Hosting orders are not simulated: the category exists and is empty.
  const orders = query.category === 'activation' ? tenant.list() : [];
  const key = query.order ?? 'id';
  const sortKey: (order: FivesimOrder) => number | string =
    key === 'price' ? (order) => Number(order.costMicros) : key === 'status' ? (order) => order.state : key === 'created_at' ? (order) => order.createdAt : (order) => order.id;
  const sorted = [...orders].sort((a, b) => {
    const [x, y] = [sortKey(a), sortKey(b)];
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  });
  if (flag(query.reverse)) sorted.reverse();
  const limit = clampInt(query.limit, 15, 1, 1000);
  const offset = clampInt(query.offset, 0, 0, Number.MAX_SAFE_INTEGER);
  return {
    Data: sorted.slice(offset, offset + limit).map((order) => orderJson(tenant.catalog, order, { stringId: tenant.looseNumbers })),
    ProductNames: [...new Set(orders.map((order) => order.service))].sort(),
    Statuses: FIVESIM_STATUSES.filter((status) => orders.some((order) => order.state === status)),
    Total: orders.length,
  };
}

function clampInt(text: string | undefined, fallback: number, min: number, max: number): number {
  const value = text !== undefined && /^\d+$/.test(text) ? Number(text) : fallback;
  return Math.min(max, Math.max(min, value));
}

/** `/guest/products/{country}/{operator}`: per product, stock summed and the lowest price over the matching operators. */
function products(tenant: FivesimTenant, country: string, operator: string) {
  const anyCountry = country === 'any';
  if (!anyCountry && !tenant.catalog.countries.has(country)) throw new FivesimError(400, 'bad country');
  const filter = { country: anyCountry ? undefined : country, operator: operator === 'any' ? undefined : operator };
  const offers = tenant.catalog.listOffers(filter);
  if (operator !== 'any' && offers.length === 0) throw new FivesimError(400, 'bad operator');
  const byProduct = new Map<string, Offer[]>();
  for (const offer of offers) byProduct.set(offer.service, [...(byProduct.get(offer.service) ?? []), offer]);
  const result: Record<string, { Category: string; Qty: number | string; Price: number }> = {};
  for (const [product, group] of byProduct) {
    const qty = group.reduce((sum, offer) => sum + offer.stock, 0);
    const inStock = group.filter((offer) => offer.stock > 0);
    const price = (inStock.length > 0 ? inStock : group).reduce((low, offer) => (offer.priceMicros < low ? offer.priceMicros : low), group[0].priceMicros);
    result[product] = { Category: 'activation', Qty: tenant.looseNumbers ? String(qty) : qty, Price: amountNumber(price) };
  }
  return result;
}

/**
 * `/guest/prices`: country → product → operator; `?product=` alone inverts the first two levels
 * (product → country → operator); `?country=&product=` is the literal `null` when the product is
 * not sold there (spec 1.5).
 */
function prices(tenant: FivesimTenant, query: Query): unknown {
  const country = query.country || undefined;
  const product = query.product || undefined;
  if (country !== undefined && !tenant.catalog.countries.has(country)) throw new FivesimError(400, 'country is incorrect');
  if (product !== undefined && !tenant.catalog.services.has(product)) throw new FivesimError(400, 'product is incorrect');
  const offers = tenant.catalog.listOffers({ country, service: product });
  if (country !== undefined && product !== undefined && offers.length === 0) return null;
  const inverted = product !== undefined && country === undefined;
  const tree: Record<string, Record<string, Record<string, unknown>>> = {};
  if (inverted) tree[product] = {};
  if (country !== undefined) tree[country] = {};
  for (const offer of offers) {
    const [outer, inner] = inverted ? [offer.service, offer.country] : [offer.country, offer.service];
    const level = ((tree[outer] ??= {})[inner] ??= {});
    level[offer.operator ?? 'any'] = priceJson(offer, tenant.looseNumbers);
  }
  return tree;
}

function send(res: Response, reply: Reply): void {
  if ('json' in reply) writeBody(res, reply.status, 'application/json', JSON.stringify(reply.json));
  else writeBody(res, reply.status, TEXT, reply.text);
}

/** Raw write: res.json would append `; charset=utf-8`, and strict 5sim clients want `application/json` exactly (spec 5.4). */
function writeBody(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { amountNumber, formatAmount } from './amount';
import { formatProviderTime } from './clock';
import type { FaultReply } from './faults';
import type { Offer } from './catalog';
import { OPERATORS, ProtocolError, SimTenant, type SimActivation } from './tenant';
import type { TimerSet } from './timers';

/**
 * The SMS-Activate `handler_api.php` wire format (spec section 2), one endpoint per tenant at
 * `/<tenantId>/stubs/handler_api.php`. Everything a strict client checks lives here: exact
 * tokens with no trailing whitespace, HTTP 200 for everything in classic mode, HeroSMS's
 * status-coded JSON errors in hero mode, parameters from the query string and the form body.
 */
export interface HandlerApiContext {
  /** Every tenant; only handler_api ones answer here (a 5sim tenant's id gets a 404). */
  tenants: ReadonlyMap<string, { protocol: string }>;
  /** For injected latency, so close() can drop pending sleeps. */
  timers: TimerSet;
  logger: Logger;
}

type Params = Record<string, string | undefined>;
type Reply = { type: 'text'; body: string } | { type: 'json'; body: unknown };
type Action = (tenant: SimTenant, params: Params) => Reply;

/** USD, ISO 4217 numeric: the currency HeroSMS reports and every simulated tenant trades in. */
const CURRENCY_USD = 840;

const text = (body: string): Reply => ({ type: 'text', body });
const json = (body: unknown): Reply => ({ type: 'json', body });

const ACTIONS: Record<string, Action> = {
  getBalance: (tenant) => text(`ACCESS_BALANCE:${formatAmount(tenant.balanceMicros)}`),
  getBalanceAndCashBack: (tenant) => ACTIONS.getBalance(tenant, {}),

  getNumber: (tenant, params) => {
    const activation = tenant.buy(buyRequest(params));
    return text(`ACCESS_NUMBER:${activation.id}:${activation.phone}`);
  },
  getNumberV2: (tenant, params) => {
    const activation = tenant.buy(buyRequest(params));
    // Spec 5.4: phoneNumber and countryCode are JSON strings, activationCost a number.
    return json({
      activationId: activation.id,
      phoneNumber: activation.phone,
      activationCost: amountNumber(activation.costMicros),
      currency: CURRENCY_USD,
      countryCode: activation.country,
      canGetAnotherSms: '1',
      activationTime: formatProviderTime(activation.createdAt),
      activationOperator: activation.operator,
    });
  },

  getStatus: (tenant, params) => text(tenant.statusToken(tenant.get(params.id))),
  getStatusV2: (tenant, params) => {
    const activation = tenant.get(params.id);
    if (activation.state === 'CANCELLED') return text('STATUS_CANCEL');
    const sms = activation.sms.at(-1);
    return json({
      verificationType: 0,
      sms: sms ? { dateTime: formatProviderTime(sms.receivedAt), code: sms.code, text: sms.text } : null,
      call: null,
    });
  },
  setStatus: (tenant, params) => text(tenant.setStatus(params.id, params.status)),

  getPrices: (tenant, params) => {
    const filter = catalogFilter(tenant, params);
    const prices: Record<string, Record<string, Record<string, number>>> = {};
    for (const offer of tenant.catalog.listOffers(filter)) {
      const byService = (prices[offer.country] ??= {});
      byService[offer.service] = {
        cost: amountNumber(offer.priceMicros),
        count: offer.stock,
        ...(tenant.errorStyle === 'hero' ? { physicalCount: offer.stock } : {}),
      };
    }
    return json(prices);
  },
  getNumbersStatus: (tenant, params) => {
    const country = params.country || tenant.defaultCountry;
    const counts: Record<string, number> = {};
    for (const offer of tenant.catalog.listOffers({ country })) counts[`${offer.service}_0`] = offer.stock;
    return json(counts);
  },

  getActiveActivations: (tenant) => {
    const active = tenant.active();
    if (active.length === 0) throw new ProtocolError('NO_ACTIVATIONS');
    return json({ status: 'success', activeActivations: active.map((activation) => activeView(tenant, activation)) });
  },

  getCountries: (tenant) => {
    const countries: Record<string, unknown> = {};
    for (const country of tenant.catalog.countries.values()) {
      // No Chinese names in the reference data: `chn` repeats the English one.
      countries[country.id] = { id: Number(country.id), rus: country.nameRu, eng: country.name, chn: country.name, visible: country.visible ? 1 : 0, retry: 1, rent: 0, multiService: 0 };
    }
    return json(countries);
  },
  getTopCountriesByService: (tenant, params) => topCountries(tenant, params),
  // Priced for the caller's rank on the real service; every simulated caller has the same rank.
  getTopCountriesByServiceRank: (tenant, params) => topCountries(tenant, params),

  getOperators: (tenant, params) => {
    const country = params.country || undefined;
    if (country !== undefined && !tenant.catalog.countries.has(country)) throw new ProtocolError('BAD_COUNTRY');
    const countryOperators: Record<string, string[]> = {};
    for (const id of country === undefined ? tenant.catalog.countries.keys() : [country]) {
      const iso2 = tenant.catalog.countries.get(id)?.iso2 ?? '';
      countryOperators[id] = [...(OPERATORS[iso2] ?? [])];
    }
    return json({ status: 'success', countryOperators });
  },

  getFullSms: (tenant, params) => {
    const activation = tenant.get(params.id);
    const sms = activation.sms.at(-1);
    return text(sms ? `FULL_SMS:${sms.text}` : tenant.statusToken(activation));
  },

  getServicesList: (tenant, params) => {
    const country = params.country || undefined;
    if (country !== undefined && !tenant.catalog.countries.has(country)) throw new ProtocolError('BAD_COUNTRY');
    const sold = country === undefined ? null : new Set(tenant.catalog.listOffers({ country }).map((offer) => offer.service));
    const services = [...tenant.catalog.services.values()].filter((service) => !sold || sold.has(service.code));
    return json({ status: 'success', services: services.map(({ code, name }) => ({ code, name })) });
  },
};

/**
 * getTopCountriesByService (spec 2.6): an object keyed "0".."n" of `{country, count, price,
 * retail_price}` for one service, most stock first; `freePrice=true` adds each country's
 * `freePriceMap` (price → numbers at that price; most at the base price, the rest one step up).
 * HeroSMS adds its physical counts. Without `service` the answer is keyed by service first, as
 * HeroSMS answers it live.
 */
function topCountries(tenant: SimTenant, params: Params): Reply {
  const service = params.service || undefined;
  if (service !== undefined && !tenant.catalog.services.has(service)) throw new ProtocolError('BAD_SERVICE');
  const freePrice = params.freePrice === 'true' || params.freePrice === '1';
  const hero = tenant.errorStyle === 'hero';
  const ranked = (code: string) => {
    const offers = tenant.catalog.listOffers({ service: code }).filter((offer) => offer.stock > 0);
    offers.sort((a, b) => b.stock - a.stock || Number(a.priceMicros - b.priceMicros));
    return Object.fromEntries(offers.map((offer, index) => [String(index), topEntry(offer, freePrice, hero)]));
  };
  if (service !== undefined) return json(ranked(service));
  return json(Object.fromEntries([...tenant.catalog.services.keys()].map((code) => [code, ranked(code)])));
}

/** One step of the simulated free-price ladder: 0.10 in the provider's currency. */
const FREE_PRICE_STEP = 100_000n;

function topEntry(offer: Offer, freePrice: boolean, hero: boolean) {
  const atBase = offer.stock - Math.floor(offer.stock / 10);
  const ladder: Array<[bigint, number]> = [[offer.priceMicros, atBase]];
  if (offer.stock > atBase) ladder.push([offer.priceMicros + FREE_PRICE_STEP, offer.stock - atBase]);
  const priceMap = Object.fromEntries(ladder.map(([price, count]) => [formatAmount(price), count]));
  return {
    country: Number(offer.country),
    count: offer.stock,
    price: amountNumber(offer.priceMicros),
    retail_price: amountNumber(offer.priceMicros * 2n),
    ...(freePrice ? { freePriceMap: priceMap } : {}),
    ...(hero ? { physicalTotalCount: offer.stock, physicalCountForDefaultPrice: atBase, physicalPriceMap: priceMap } : {}),
  };
}

/** HTTP status per token in hero mode. HeroSMS publishes none; 401/403/404/409 follow privatesms.vip and the 409 early-cancel reply (spec 2.9, 3). */
const HERO_STATUS: Record<string, number> = {
  NO_KEY: 401,
  BAD_KEY: 401,
  NO_BALANCE: 402,
  BANNED: 403,
  CHANNELS_LIMIT: 403,
  NO_ACTIVATION: 404,
  WRONG_ACTIVATION_ID: 404,
  NO_ACTIVATIONS: 404,
  NO_NUMBERS: 404,
  EARLY_CANCEL_DENIED: 409,
  BAD_STATUS: 409,
  ERROR_SQL: 500,
};

const HERO_MESSAGES: Record<string, string> = {
  NO_KEY: 'API key is missing',
  BAD_KEY: 'Invalid API key',
  BAD_ACTION: 'Unknown action',
  BAD_SERVICE: 'Unknown service',
  BAD_COUNTRY: 'Unknown country',
  NO_NUMBERS: 'No numbers available for this service and country',
  NO_BALANCE: 'Insufficient balance',
  WRONG_MAX_PRICE: 'maxPrice is below the current price',
  EARLY_CANCEL_DENIED: 'The activation cannot be cancelled yet',
  BAD_STATUS: 'This status change is not allowed now',
  NO_ACTIVATION: 'Activation not found',
  NO_ACTIVATIONS: 'No active activations',
  ERROR_SQL: 'Internal error',
};

export function handlerApiRouter(context: HandlerApiContext): Router {
  const router = Router();
  router.all('/:tenantId/stubs/handler_api.php', async (req: Request, res: Response) => {
    const tenant = context.tenants.get(String(req.params.tenantId));
    if (!(tenant instanceof SimTenant)) {
      writeBody(res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return;
    }
    const params = readParams(req);
    const log = context.logger.child({ tenant: tenant.id, action: params.action });
    try {
      if (tenant.settings.latencyMs > 0) await context.timers.sleep(tenant.settings.latencyMs);
      const fault = tenant.faults.take(params.action);
      if (fault && 'latencyMs' in fault) await context.timers.sleep(fault.latencyMs);
      else if (fault && 'hangUpAfterMs' in fault) {
        // A client timeout: the call is held, never served, then dropped.
        log.debug({ fault }, 'injected hang');
        await context.timers.sleep(fault.hangUpAfterMs);
        req.socket.destroy();
        return;
      } else if (fault && !('serveThenHangUpAfterMs' in fault)) {
        log.debug({ fault }, 'injected fault');
        sendFault(req, res, tenant, fault);
        return;
      }
      const reply = dispatch(tenant, params);
      if (fault && 'serveThenHangUpAfterMs' in fault) {
        // Done at the provider, reply lost: the caller has to find out what happened some other way.
        log.debug({ fault }, 'injected lost reply');
        await context.timers.sleep(fault.serveThenHangUpAfterMs);
        req.socket.destroy();
        return;
      }
      log.debug({ reply: reply.type === 'text' ? reply.body : 'json' }, 'handler_api call');
      send(res, reply);
    } catch (error) {
      if (error instanceof ProtocolError) {
        log.debug({ token: error.message }, 'handler_api refusal');
        sendError(res, tenant, error);
        return;
      }
      // What a real provider shows for its own bugs; the adapter treats it as transient.
      log.error({ err: error }, 'handler_api call failed');
      sendError(res, tenant, new ProtocolError('ERROR_SQL'));
    }
  });
  return router;
}

function dispatch(tenant: SimTenant, params: Params): Reply {
  // The key comes first: a caller without a valid one learns nothing else.
  if (!params.api_key) throw new ProtocolError('NO_KEY');
  if (params.api_key !== tenant.apiKey) throw new ProtocolError('BAD_KEY');
  const action = params.action !== undefined && Object.hasOwn(ACTIONS, params.action) ? ACTIONS[params.action] : undefined;
  if (!action) throw new ProtocolError('BAD_ACTION');
  // Expiry is lazy: every call first settles what the clock has ended (refunds, stock) so balance, prices and statuses agree.
  tenant.sweep();
  return action(tenant, params);
}

/** Query string and form body merged (the body wins); repeated keys keep their first value. */
function readParams(req: Request): Params {
  const params: Params = {};
  const sources = [req.query as Record<string, unknown>, (req.body ?? {}) as Record<string, unknown>];
  for (const source of sources) {
    if (typeof source !== 'object' || source === null) continue;
    for (const [key, value] of Object.entries(source)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string') params[key] = first;
    }
  }
  return params;
}

function buyRequest(params: Params) {
  // `operator`, `phoneException`, `forward` and `ref` are accepted and ignored: the simulator picks the operator.
  return { service: params.service, country: params.country, maxPrice: params.maxPrice };
}

function catalogFilter(tenant: SimTenant, params: Params): { service?: string; country?: string } {
  const service = params.service || undefined;
  const country = params.country || undefined;
  if (service !== undefined && !tenant.catalog.services.has(service)) throw new ProtocolError('BAD_SERVICE');
  if (country !== undefined && !tenant.catalog.countries.has(country)) throw new ProtocolError('BAD_COUNTRY');
  return { service, country };
}

/** Spec 2.6. `activationStatus` has no published meaning; these numbers only need to be stable. */
const ACTIVE_STATUS: Record<string, string> = { WAIT: '0', READY: '1', WAIT_RETRY: '3', GOT_CODE: '4' };

function activeView(tenant: SimTenant, activation: SimActivation) {
  const country = tenant.catalog.countries.get(activation.country);
  return {
    activationId: String(activation.id),
    serviceCode: activation.service,
    phoneNumber: activation.phone,
    activationCost: amountNumber(activation.costMicros),
    activationStatus: ACTIVE_STATUS[activation.state],
    smsCode: activation.sms.length > 0 ? activation.sms.map((sms) => sms.code) : null,
    smsText: activation.sms.length > 0 ? `[${activation.sms.map((sms) => sms.text).join(', ')}]` : null,
    activationTime: formatProviderTime(activation.createdAt),
    discount: '0.00',
    repeated: '0',
    countryCode: activation.country,
    countryName: country?.name ?? '',
    canGetAnotherSms: '1',
    currency: CURRENCY_USD,
  };
}

function send(res: Response, reply: Reply): void {
  if (reply.type === 'text') writeBody(res, 200, 'text/plain; charset=utf-8', reply.body);
  else writeBody(res, 200, 'application/json', JSON.stringify(reply.body));
}

/** Raw write: res.set/res.send would append `; charset=utf-8`; JSON goes out as exactly `application/json` (spec 5.4). */
function writeBody(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

function sendError(res: Response, tenant: SimTenant, error: ProtocolError): void {
  if (tenant.errorStyle === 'classic') {
    send(res, text(error.message));
    return;
  }
  const details = HERO_MESSAGES[error.token] ?? error.message;
  const body =
    error.token === 'EARLY_CANCEL_DENIED'
      ? { title: error.token, details, info: error.info ?? { minActivationTime: Math.ceil(tenant.settings.minCancelMs / 1000) } }
      : { status: 'error', message: error.token, errorMsg: details, ...(error.info ? { info: error.info } : {}) };
  writeBody(res, HERO_STATUS[error.token] ?? 400, 'application/json', JSON.stringify(body));
}

function sendFault(req: Request, res: Response, tenant: SimTenant, fault: Exclude<FaultReply, { latencyMs: number } | { hangUpAfterMs: number } | { serveThenHangUpAfterMs: number }>): void {
  if ('hangUp' in fault) {
    req.socket.destroy();
  } else if ('token' in fault) {
    const [token, ...rest] = fault.token.split(':');
    sendError(res, tenant, new ProtocolError(token, rest.length > 0 ? rest.join(':') : undefined));
  } else {
    writeBody(res, fault.status, 'text/plain; charset=utf-8', fault.body ?? `HTTP ${fault.status}`);
  }
}

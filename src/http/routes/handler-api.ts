import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ActivationDto, ActivationService } from '../../activations/activation.service';
import { hasScope, type ApiKeyPrincipal, type ApiKeyScope, type ApiKeyService } from '../../auth/api-keys.service';
import type { CatalogService, PriceCell } from '../../catalog/catalog.service';
import { referenceCountries, referenceServices } from '../../catalog/reference-data';
import type { Db } from '../../db/client';
import type { AuditLog } from '../../lib/audit';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { formatUsd, MICROS_PER_USD } from '../../lib/money';
import { escapeInvalidText } from '../../lib/text';
import type { WalletService } from '../../wallet';
import { clientIp, type RateLimits } from '../middleware/rate-limit';

/**
 * SimGate speaking the SMS-Activate `handler_api.php` protocol (shared/specs/provider-protocols.md
 * section 2), so partners' existing SMS-Activate tools buy from us by swapping the host: the same
 * ActivationService and wallet as /api/v1, SMS-Activate identifiers (services `tg`, countries by
 * number) mapped through the reference data, money in USD as the protocol prints it.
 *
 * Two styles: classic (`/stubs/handler_api.php`: HTTP 200 and a bare token for everything, what
 * strict clients require) and, only when asked for by its own path, HeroSMS
 * (`/hero/stubs/handler_api.php`: HeroSMS country ids, status codes and JSON error bodies).
 */
export type HandlerApiStyle = 'classic' | 'hero';

export interface HandlerApiDeps {
  db: Db;
  apiKeys: ApiKeyService;
  activations: ActivationService;
  catalog: CatalogService;
  wallet: WalletService;
  audit: AuditLog;
  rateLimits: RateLimits;
  logger: Logger;
}

type Params = Record<string, string | undefined>;
type Reply = { type: 'text'; body: string } | { type: 'json'; body: unknown };

/** A protocol refusal: the token (and its argument) the client is told. */
class Refusal extends Error {
  constructor(
    readonly token: string,
    readonly argument?: string,
    readonly info?: Record<string, unknown>,
  ) {
    super(argument === undefined ? token : `${token}:${argument}`);
  }
}

const text = (body: string): Reply => ({ type: 'text', body });
const json = (body: unknown): Reply => ({ type: 'json', body });

/** ISO 4217 numeric code of the wallet's currency (USD), as HeroSMS reports it. */
const CURRENCY_USD = 840;
/** The only operator we can promise: providers pick the operator, our catalog does not know it. */
const ANY_OPERATOR = 'any';
/** SMS-Activate's default when `country` is missing (Russia: 0 on SMS-Activate, 222 on HeroSMS). */
const DEFAULT_COUNTRY_ISO = 'RU';

/** The identifiers of one style: SMS-Activate's or HeroSMS's country numbers, SMS-Activate's service codes. */
class Identifiers {
  private readonly isoById = new Map<string, string>();
  private readonly idByIso = new Map<string, string>();
  private readonly serviceByCode = new Map<string, { code: string; name: string }>();
  private readonly codeByService = new Map<string, string>();
  readonly countryNames = new Map<string, { eng: string; rus: string }>();

  constructor(style: HandlerApiStyle) {
    for (const country of referenceCountries) {
      const id = style === 'hero' ? country.heroSmsId : country.smsActivateId;
      if (id == null) continue;
      this.isoById.set(String(id), country.iso2);
      this.idByIso.set(country.iso2, String(id));
      this.countryNames.set(String(id), { eng: country.smsActivateName ?? country.name, rus: country.smsActivateNameRu ?? country.smsActivateName ?? country.name });
      // "USA (virtual)" (12) and the like: accepted when asked for, never shown as the country's id.
      for (const alt of country.altSmsActivateIds ?? []) if (style === 'classic') this.isoById.set(String(alt), country.iso2);
    }
    for (const service of referenceServices) {
      if (!service.smsActivateCode) continue;
      this.serviceByCode.set(service.smsActivateCode, { code: service.code, name: service.name });
      this.codeByService.set(service.code, service.smsActivateCode);
    }
  }

  countryIso(id: string): string | undefined {
    return /^\d{1,6}$/.test(id) ? this.isoById.get(String(Number(id))) : undefined;
  }

  countryId(iso: string): string | undefined {
    return this.idByIso.get(iso);
  }

  service(code: string): { code: string; name: string } | undefined {
    return this.serviceByCode.get(code);
  }

  serviceCode(ours: string): string | undefined {
    return this.codeByService.get(ours);
  }
}

/** What each action needs of the key: buying and changing a status spend money, the rest only reads. */
const ACTION_SCOPES: Record<string, ApiKeyScope> = {
  getBalance: 'read',
  getBalanceAndCashBack: 'read',
  getNumber: 'purchase',
  getNumberV2: 'purchase',
  getStatus: 'read',
  getStatusV2: 'read',
  setStatus: 'purchase',
  getActiveActivations: 'read',
  getPrices: 'read',
  getNumbersStatus: 'read',
  getCountries: 'read',
  getServicesList: 'read',
  getTopCountriesByService: 'read',
  getOperators: 'read',
};

/** HeroSMS style: the HTTP status of each refusal (the simulator's table, which follows privatesms.vip and HeroSMS's 409 early cancel). */
const HERO_STATUS: Record<string, number> = {
  NO_KEY: 401,
  BAD_KEY: 401,
  NO_BALANCE: 402,
  NO_ACTIVATION: 404,
  NO_ACTIVATIONS: 404,
  NO_NUMBERS: 404,
  EARLY_CANCEL_DENIED: 409,
  BAD_STATUS: 409,
  RATE_LIMITED: 429,
  ERROR_SQL: 500,
};

const MESSAGES: Record<string, string> = {
  NO_KEY: 'API key is missing',
  BAD_KEY: 'Invalid API key, or the key lacks the scope this action needs',
  BAD_ACTION: 'Unknown action',
  BAD_SERVICE: 'Unknown service',
  BAD_COUNTRY: 'Unknown country',
  WRONG_OPERATOR: 'Only the operator "any" can be chosen',
  NO_NUMBERS: 'No numbers available for this service and country',
  NO_BALANCE: 'Insufficient balance',
  WRONG_MAX_PRICE: 'maxPrice is below the current price',
  EARLY_CANCEL_DENIED: 'The activation cannot be cancelled yet',
  BAD_STATUS: 'This status change is not allowed now',
  NO_ACTIVATION: 'Activation not found',
  NO_ACTIVATIONS: 'No active activations',
  RATE_LIMITED: 'Too many requests',
  ERROR_SQL: 'Internal error',
};

interface Call {
  principal: ApiKeyPrincipal;
  params: Params;
  ids: Identifiers;
  style: HandlerApiStyle;
  /** What the audit entry names: the activation acted on, when there is one. */
  target?: string;
}

/** Where each style answers. */
export const HANDLER_API_PATHS: Record<HandlerApiStyle, string> = { classic: '/stubs/handler_api.php', hero: '/hero/stubs/handler_api.php' };

/**
 * The endpoint, and what to do with a body that cannot be read (malformed JSON, an oversized form,
 * an unknown charset): mounted by the app after everything else on these paths, it drops the body
 * and answers from the query string, so a client still gets a protocol token, never our JSON error.
 */
export function handlerApi(deps: HandlerApiDeps): { routes: Router; unreadableBody: ErrorRequestHandler } {
  const { routes, endpoint } = createHandlerApi(deps);
  const unreadableBody: ErrorRequestHandler = (error, req, res, next) => {
    const status = (error as { status?: number }).status;
    if (!(typeof status === 'number' && status >= 400 && status < 500) || res.headersSent) return next(error);
    req.body = {};
    void endpoint(req.originalUrl.split('?')[0] === HANDLER_API_PATHS.hero ? 'hero' : 'classic')(req, res, next);
  };
  return { routes, unreadableBody };
}

function createHandlerApi(deps: HandlerApiDeps): { routes: Router; endpoint: (style: HandlerApiStyle) => RequestHandler } {
  const router = Router();
  const styles: Record<HandlerApiStyle, Identifiers> = { classic: new Identifiers('classic'), hero: new Identifiers('hero') };
  // Clients POST forms (or nothing, with everything in the query string); JSON bodies are parsed by the app already.
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });
  const actions = createActions(deps);

  const endpoint =
    (style: HandlerApiStyle): RequestHandler =>
    async (req: Request, res: Response) => {
      const params = readParams(req);
      let call: Call | null = null;
      let reply: Reply;
      try {
        await runLimit(deps.rateLimits.ip, req, res);
        if (!params.api_key) throw new Refusal('NO_KEY');
        const principal = await deps.apiKeys.authenticate(params.api_key);
        if (!principal) throw new Refusal('BAD_KEY');
        res.locals.apiKey = principal;
        req.user = principal.user;
        call = { principal, params, ids: styles[style], style };
        await runLimit(deps.rateLimits.apiKey, req, res);
        const action = params.action !== undefined && Object.hasOwn(actions, params.action) ? actions[params.action] : undefined;
        if (!action) throw new Refusal('BAD_ACTION');
        if (!hasScope(principal.scopes, ACTION_SCOPES[params.action!])) throw new Refusal('BAD_KEY');
        if (params.action === 'getNumber' || params.action === 'getNumberV2') await runLimit(deps.rateLimits.purchase, req, res);
        reply = await action(call);
      } catch (error) {
        reply = { type: 'text', body: refusalOf(error, deps.logger).message };
        if (!(error instanceof Refusal) && !(error instanceof AppError)) deps.logger.error({ err: error, action: params.action }, 'handler_api call failed');
        else if (error instanceof AppError && error.code === 'INTERNAL') deps.logger.error({ err: error, action: params.action }, 'handler_api call failed');
        try {
          await audit(deps, req, params, call, reply);
        } catch (auditError) {
          deps.logger.error({ err: auditError }, 'handler_api audit failed');
        }
        return sendRefusal(res, style, refusalOf(error, deps.logger));
      }
      try {
        // Every action is audited, and an action that cannot be audited fails (lib/audit.ts).
        await audit(deps, req, params, call, reply);
      } catch (error) {
        deps.logger.error({ err: error }, 'handler_api audit failed');
        return sendRefusal(res, style, new Refusal('ERROR_SQL'));
      }
      send(res, reply);
    };

  router.all(HANDLER_API_PATHS.classic, form, endpoint('classic'));
  router.all(HANDLER_API_PATHS.hero, form, endpoint('hero'));
  return { routes: router, endpoint };
}

/** Runs one of the Express rate limiters inline; a refusal comes back as its AppError (RATE_LIMITED). */
function runLimit(limiter: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const next: NextFunction = (error?: unknown) => (error ? reject(error) : resolve());
    Promise.resolve(limiter(req, res, next)).catch(reject);
  });
}

async function audit(deps: HandlerApiDeps, req: Request, params: Params, call: Call | null, reply: Reply): Promise<void> {
  // What the caller sent is recorded as sent, but visibly: a NUL byte would make PostgreSQL refuse the whole entry.
  const shown = (value: string, max: number) => escapeInvalidText(value.slice(0, max));
  const answer = reply.type === 'text' ? reply.body.split(':')[0] : 'JSON';
  await deps.audit.record({
    action: 'partner.handler-api',
    actorId: call?.principal.user.id ?? null,
    targetType: call?.target ? 'activation' : 'api_key',
    targetId: call?.target ?? call?.principal.keyId ?? null,
    ip: clientIp(req),
    details: {
      action: shown(params.action ?? '', 64),
      reply: answer.slice(0, 64),
      ...(call ? { apiKeyPrefix: call.principal.prefix } : {}),
      ...(params.id ? { id: shown(params.id, 32) } : {}),
      ...(params.service ? { service: shown(params.service, 32) } : {}),
      ...(params.country ? { country: shown(params.country, 16) } : {}),
      ...(params.status ? { status: shown(params.status, 8) } : {}),
    },
  });
}

/** Our failure codes → the protocol's tokens. */
function refusalOf(error: unknown, _logger: Logger): Refusal {
  if (error instanceof Refusal) return error;
  if (!(error instanceof AppError)) return new Refusal('ERROR_SQL');
  switch (error.code) {
    case 'RATE_LIMITED':
      return new Refusal('RATE_LIMITED', undefined, error.details as Record<string, unknown> | undefined);
    case 'UNKNOWN_SERVICE':
      return new Refusal('BAD_SERVICE');
    case 'UNKNOWN_COUNTRY':
      return new Refusal('BAD_COUNTRY');
    case 'INSUFFICIENT_FUNDS':
    case 'WALLET_NOT_FOUND':
      return new Refusal('NO_BALANCE');
    case 'NO_OFFERS':
    case 'NO_NUMBERS':
    case 'PROVIDERS_UNAVAILABLE':
    case 'PURCHASE_FAILED':
      return new Refusal('NO_NUMBERS');
    case 'MAX_PRICE_TOO_LOW': {
      const min = (error.details as { minPriceMicros?: string } | undefined)?.minPriceMicros;
      return new Refusal('WRONG_MAX_PRICE', min === undefined ? undefined : formatUsd(BigInt(min)));
    }
    case 'NOT_FOUND':
      return new Refusal('NO_ACTIVATION');
    case 'CANCEL_TOO_EARLY':
      return new Refusal('EARLY_CANCEL_DENIED', undefined, error.details as Record<string, unknown> | undefined);
    case 'SMS_ALREADY_RECEIVED':
    case 'NO_SMS_YET':
    case 'ALREADY_AWAITING_SMS':
    case 'ACTIVATION_CLOSED':
    case 'ACTIVATION_NOT_READY':
    case 'ACTION_IN_PROGRESS':
      return new Refusal('BAD_STATUS');
    default:
      return new Refusal('ERROR_SQL');
  }
}

/** Query string and form (or JSON) body merged, the body winning; repeated keys keep their first string value. */
function readParams(req: Request): Params {
  const params: Params = {};
  const sources = [req.query as Record<string, unknown>, (req.body ?? {}) as Record<string, unknown>];
  for (const source of sources) {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) continue;
    for (const [key, value] of Object.entries(source)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string') params[key] = first;
      else if (typeof first === 'number' && Number.isSafeInteger(first)) params[key] = String(first);
    }
  }
  return params;
}

/** Raw writes: exactly `text/plain; charset=utf-8` or `application/json`, no trailing newline (spec 5.4). */
function writeBody(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function send(res: Response, reply: Reply): void {
  if (reply.type === 'text') writeBody(res, 200, 'text/plain; charset=utf-8', reply.body);
  else writeBody(res, 200, 'application/json', JSON.stringify(reply.body));
}

/**
 * Classic: HTTP 200 and the bare token, whatever went wrong — except a rate limit, which is HTTP
 * 429 with Retry-After (the protocol has no token for it; any client treats a 429 as "retry later").
 * HeroSMS: the status of HERO_STATUS and a JSON body (EARLY_CANCEL_DENIED in its problem style).
 */
function sendRefusal(res: Response, style: HandlerApiStyle, refusal: Refusal): void {
  if (style === 'classic') {
    writeBody(res, refusal.token === 'RATE_LIMITED' ? 429 : 200, 'text/plain; charset=utf-8', refusal.message);
    return;
  }
  const details = MESSAGES[refusal.token] ?? refusal.token;
  const body =
    refusal.token === 'EARLY_CANCEL_DENIED'
      ? { title: refusal.token, details, info: refusal.info ?? {} }
      : { status: 'error', message: refusal.message, errorMsg: details, ...(refusal.info ? { info: refusal.info } : {}) };
  writeBody(res, HERO_STATUS[refusal.token] ?? 400, 'application/json', JSON.stringify(body));
}

// ── Money and time as the protocol prints them ──

/** Micros → the protocol's decimal ("0.35", "12.5" → "12.50"): exact, never rounded. */
const amountText = (micros: bigint) => formatUsd(micros);
/** The same as a JSON number: the shortest decimal that round-trips is the text above. */
const amountNumber = (micros: bigint) => Number(formatUsd(micros));

/** `maxPrice` in dollars → micros, rounded down (a ceiling must never let a dearer number through); null when malformed. */
function parseMaxPrice(value: string): bigint | null {
  const match = /^(\d{1,9})(?:[.,](\d{1,12}))?$/.exec(value.trim());
  if (!match) return null;
  const fraction = (match[2] ?? '').slice(0, 6).padEnd(6, '0');
  const micros = BigInt(match[1]) * MICROS_PER_USD + BigInt(fraction);
  return micros > 0n ? micros : null;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
function providerTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

const phoneDigits = (phone: string | null) => (phone ?? '').replace(/^\+/, '');

// ── The actions ──

type Action = (call: Call) => Promise<Reply>;

function createActions(deps: HandlerApiDeps): Record<string, Action> {
  const userId = (call: Call) => call.principal.user.id;

  const balance = async (call: Call) => {
    const wallet = await deps.wallet.getWallet(userId(call)).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'WALLET_NOT_FOUND') return null;
      throw error;
    });
    return text(`ACCESS_BALANCE:${amountText(wallet?.availableMicros ?? 0n)}`);
  };

  const service = (call: Call) => {
    const code = call.params.service;
    const found = code ? call.ids.service(code) : undefined;
    if (!found) throw new Refusal('BAD_SERVICE');
    return found;
  };
  const optionalService = (call: Call) => (call.params.service ? service(call).code : undefined);

  const country = (call: Call, fallback: string | null = DEFAULT_COUNTRY_ISO): string | undefined => {
    const id = call.params.country;
    if (id === undefined || id === '') return fallback ?? undefined;
    const iso = call.ids.countryIso(id);
    if (!iso) throw new Refusal('BAD_COUNTRY');
    return iso;
  };

  /** `operator` is a csv; we can only promise `any`, so naming only other operators is refused rather than ignored. */
  const checkOperator = (call: Call) => {
    const operators = (call.params.operator ?? '').split(',').map((o) => o.trim().toLowerCase()).filter(Boolean);
    if (operators.length > 0 && !operators.includes(ANY_OPERATOR)) throw new Refusal('WRONG_OPERATOR');
  };

  /** The caller's activation with this protocol id. Someone else's answers as a missing one. */
  const activation = async (call: Call): Promise<{ view: ActivationDto; number: bigint }> => {
    const id = call.params.id ?? '';
    if (!/^\d{1,18}$/.test(id)) throw new Refusal('NO_ACTIVATION');
    const row = await deps.db.activation.findFirst({ where: { smsActivateId: BigInt(id), userId: userId(call) }, select: { id: true, smsActivateId: true } });
    if (!row) throw new Refusal('NO_ACTIVATION');
    call.target = row.id;
    return { view: await deps.activations.get(row.id, userId(call)), number: row.smsActivateId };
  };

  const buy = async (call: Call) => {
    const { code } = service(call);
    const countryIso = country(call)!;
    checkOperator(call);
    let maxPriceMicros: bigint | null = null;
    if (call.params.maxPrice !== undefined && call.params.maxPrice !== '') {
      maxPriceMicros = parseMaxPrice(call.params.maxPrice);
      if (maxPriceMicros === null) {
        // Unreadable ceiling: say what the cheapest number costs, as for one that is too low.
        const quote = await deps.catalog.quote({ serviceCode: code, countryIso, maxPriceMicros: null });
        throw new Refusal('WRONG_MAX_PRICE', amountText(quote.holdMicros));
      }
    }
    const { activation: bought } = await deps.activations.purchase({ userId: userId(call), serviceCode: code, countryIso, maxPriceMicros, idempotencyKey: null });
    call.target = bought.id;
    const row = await deps.db.activation.findUniqueOrThrow({ where: { id: bought.id }, select: { smsActivateId: true } });
    return { bought, number: row.smsActivateId, countryIso };
  };

  const countryIdOf = (call: Call, iso: string) => call.ids.countryId(iso) ?? '';

  const actions: Record<string, Action> = {
    getBalance: balance,
    getBalanceAndCashBack: balance,

    getNumber: async (call) => {
      const { bought, number } = await buy(call);
      return text(`ACCESS_NUMBER:${number}:${phoneDigits(bought.phone)}`);
    },
    getNumberV2: async (call) => {
      const { bought, number, countryIso } = await buy(call);
      return json({
        activationId: Number(number),
        phoneNumber: phoneDigits(bought.phone),
        activationCost: amountNumber(BigInt(bought.priceMicros ?? bought.heldMicros ?? '0')),
        currency: CURRENCY_USD,
        countryCode: countryIdOf(call, countryIso),
        canGetAnotherSms: '1',
        activationTime: providerTime(bought.createdAt),
        activationOperator: ANY_OPERATOR,
      });
    },

    getStatus: async (call) => text(statusToken((await activation(call)).view)),
    getStatusV2: async (call) => {
      const { view } = await activation(call);
      if (['CANCELLED', 'EXPIRED', 'FAILED'].includes(view.status)) return text('STATUS_CANCEL');
      const sms = view.messages.at(-1);
      return json({ verificationType: 0, sms: sms ? { dateTime: providerTime(sms.receivedAt), code: sms.code ?? '', text: sms.text } : null, call: null });
    },

    setStatus: async (call) => {
      const status = call.params.status ?? '';
      if (!['1', '3', '6', '8'].includes(status)) {
        // An id that is not the caller's is still NO_ACTIVATION, whatever the status.
        await activation(call);
        throw new Refusal('BAD_STATUS');
      }
      const { view } = await activation(call);
      const owner = userId(call);
      switch (status) {
        case '1':
          // "The SMS was sent": nothing for us to do but confirm, while the number waits for its first code.
          if (view.status !== 'ACTIVE' || view.messages.length > 0) throw new Refusal('BAD_STATUS');
          return text('ACCESS_READY');
        case '3':
          await deps.activations.requestAnotherSms(view.id, owner);
          return text('ACCESS_RETRY_GET');
        case '6':
          await deps.activations.finish(view.id, owner);
          return text('ACCESS_ACTIVATION');
        default:
          await deps.activations.cancel(view.id, owner);
          return text('ACCESS_CANCEL');
      }
    },

    getActiveActivations: async (call) => {
      const rows = await deps.db.activation.findMany({
        where: { userId: userId(call), status: 'ACTIVE' },
        orderBy: { createdAt: 'asc' },
        take: 500,
        include: { messages: { orderBy: { seq: 'asc' } } },
      });
      if (rows.length === 0) throw new Refusal('NO_ACTIVATIONS');
      return json({
        status: 'success',
        activeActivations: rows.map((row) => {
          const countryId = countryIdOf(call, row.countryIso);
          return {
            activationId: String(row.smsActivateId),
            serviceCode: call.ids.serviceCode(row.serviceCode) ?? row.serviceCode,
            phoneNumber: phoneDigits(row.phone),
            activationCost: amountNumber(row.priceMicros ?? row.heldMicros),
            activationStatus: row.messages.length > 0 ? '4' : '0',
            smsCode: row.messages.length > 0 ? row.messages.map((m) => m.code ?? '') : null,
            smsText: row.messages.length > 0 ? `[${row.messages.map((m) => m.text).join(', ')}]` : null,
            activationTime: providerTime(row.createdAt.toISOString()),
            discount: '0.00',
            repeated: '0',
            countryCode: countryId,
            countryName: call.ids.countryNames.get(countryId)?.eng ?? '',
            canGetAnotherSms: '1',
            currency: CURRENCY_USD,
          };
        }),
      });
    },

    getPrices: async (call) => {
      const cells = await deps.catalog.priceTable({ serviceCode: optionalService(call), countryIso: country(call, null) });
      const prices: Record<string, Record<string, Record<string, number>>> = {};
      for (const cell of visible(call, cells)) {
        const byService = (prices[cell.countryId] ??= {});
        byService[cell.service] = { cost: amountNumber(cell.priceMicros), count: cell.stock, ...(call.style === 'hero' ? { physicalCount: cell.stock } : {}) };
      }
      return json(prices);
    },

    getNumbersStatus: async (call) => {
      const countryIso = country(call)!;
      checkOperator(call);
      const counts: Record<string, number> = {};
      for (const cell of visible(call, await deps.catalog.priceTable({ countryIso }))) counts[`${cell.service}_0`] = cell.stock;
      return json(counts);
    },

    getCountries: async (call) => {
      const onSale = new Set((await deps.catalog.priceTable()).map((cell) => cell.countryIso));
      const countries: Record<string, unknown> = {};
      for (const iso of [...onSale].sort()) {
        const id = call.ids.countryId(iso);
        if (id === undefined) continue;
        const names = call.ids.countryNames.get(id)!;
        countries[id] = { id: Number(id), rus: names.rus, eng: names.eng, chn: names.eng, visible: 1, retry: 1, rent: 0, multiService: 0 };
      }
      return json(countries);
    },

    getServicesList: async (call) => {
      const cells = visible(call, await deps.catalog.priceTable({ countryIso: country(call, null) }));
      const seen = new Map<string, string>();
      for (const cell of cells) seen.set(cell.service, call.ids.service(cell.service)!.name);
      return json({ status: 'success', services: [...seen].sort(([a], [b]) => a.localeCompare(b)).map(([code, name]) => ({ code, name })) });
    },

    getTopCountriesByService: async (call) => {
      const only = optionalService(call);
      const freePrice = call.params.freePrice === 'true' || call.params.freePrice === '1';
      const byService = new Map<string, ReturnType<typeof visible>>();
      for (const cell of visible(call, await deps.catalog.priceTable({ serviceCode: only }))) {
        const list = byService.get(cell.service) ?? [];
        list.push(cell);
        byService.set(cell.service, list);
      }
      const ranked = (cells: ReturnType<typeof visible>) => {
        const sorted = [...cells].sort((a, b) => b.stock - a.stock || Number(a.priceMicros - b.priceMicros));
        return Object.fromEntries(
          sorted.map((cell, index) => [
            String(index),
            {
              country: Number(cell.countryId),
              count: cell.stock,
              price: amountNumber(cell.priceMicros),
              // We sell at one price list: the retail price is the price.
              retail_price: amountNumber(cell.priceMicros),
              ...(freePrice ? { freePriceMap: Object.fromEntries(cell.levels.map((level) => [amountText(level.priceMicros), level.stock])) } : {}),
            },
          ]),
        );
      };
      if (only !== undefined) return json(ranked(byService.get(call.ids.serviceCode(only) ?? only) ?? []));
      return json(Object.fromEntries([...byService].map(([code, cells]) => [code, ranked(cells)])));
    },

    getOperators: async (call) => {
      const only = country(call, null);
      const onSale = new Set((await deps.catalog.priceTable({ countryIso: only })).map((cell) => cell.countryIso));
      if (only !== undefined) onSale.add(only);
      const countryOperators: Record<string, string[]> = {};
      for (const iso of [...onSale].sort()) {
        const id = call.ids.countryId(iso);
        if (id !== undefined) countryOperators[id] = [ANY_OPERATOR];
      }
      return json({ status: 'success', countryOperators });
    },
  };
  return actions;
}

/** Price cells under the protocol's identifiers; cells without one (a service SMS-Activate has no code for) are not shown. */
function visible(call: Call, cells: PriceCell[]) {
  const shown: (PriceCell & { service: string; countryId: string })[] = [];
  for (const cell of cells) {
    const service = call.ids.serviceCode(cell.serviceCode);
    const countryId = call.ids.countryId(cell.countryIso);
    if (service && countryId !== undefined) shown.push({ ...cell, service, countryId });
  }
  return shown;
}

/**
 * getStatus (spec 2.4, 5.2): waiting → STATUS_WAIT_CODE; a code → STATUS_OK:<code>; after
 * setStatus 3, until the next code → STATUS_WAIT_RETRY:<last code>; finished → STATUS_OK with the
 * last code; cancelled, expired or failed → STATUS_CANCEL.
 */
function statusToken(view: ActivationDto): string {
  const last = view.messages.at(-1);
  const code = last ? (last.code ?? last.text) : '';
  switch (view.status) {
    case 'RESERVED':
      return 'STATUS_WAIT_CODE';
    case 'ACTIVE':
      if (!last) return 'STATUS_WAIT_CODE';
      // The workflow offers "another SMS" only while it is not already waiting for one, and finish in both cases.
      return !view.actions.retry && view.actions.finish ? `STATUS_WAIT_RETRY:${code}` : `STATUS_OK:${code}`;
    case 'COMPLETED':
      return last ? `STATUS_OK:${code}` : 'STATUS_CANCEL';
    default:
      return 'STATUS_CANCEL';
  }
}

import type { Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import type Redis from 'ioredis';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { ApiKeyScope, ApiKeyService } from '../../auth/api-keys.service';
import type { PartnerWebhookService } from '../../auth/partner-webhooks.service';
import type { PartnerEvents } from '../../activations/partner-events';
import type { AuditLog } from '../../lib/audit';
import type { CatalogService, PriceCell } from '../../catalog/catalog.service';
import type { ProviderHealth } from '../../providers/health';
import { AppError } from '../../lib/errors';
import type { FailureCode } from '../../../workflows/contracts';
import { httpStatus } from '../middleware/errors';
import type { SecurityConfig } from '../../config/app.config';
import type { WalletService } from '../../wallet';
import { currentApiKey, requireApiKey, requireScope } from '../middleware/api-key';
import { currentUser } from '../middleware/auth';
import { clientIp, type RateLimits } from '../middleware/rate-limit';
import { requireSignature } from '../middleware/signing';
import { valid, validate, type RequestSchema } from '../middleware/validate';
import { activationIdParams, countryIso, idempotencyKey, positiveMicros, serviceCode } from '../schemas';
import { serializeLedgerEntry, serializeWallet } from '../serializers';
import { webhookDeliveryV1Routes, webhookSettingsBody, webhookViewSchema } from './partner-webhooks';

// ── Response shapes: the document's schemas, and what every answer is parsed through before it is sent ──
const smsSchema = z.object({ seq: z.number().int(), code: z.string().nullable(), text: z.string(), receivedAt: z.iso.datetime() });
const activationStatus = z.enum(['RESERVED', 'ACTIVE', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']);
const activationSchema = z.object({
  id: z.string().describe('Activation id (also the Temporal workflow id)'),
  userId: z.uuid(),
  status: activationStatus,
  serviceCode: z.string(),
  countryIso: z.string(),
  serviceName: z.string().describe('The catalog name of serviceCode, e.g. Telegram'),
  countryName: z.string().describe('The catalog name of countryIso, e.g. United Kingdom'),
  countryDial: z.string().describe('Dialling code of the country without +, e.g. 44'),
  providerId: z.string().nullable(),
  phone: z.string().nullable().describe('E.164, e.g. +6281234567890'),
  heldMicros: z.string().nullable().describe('Micro-dollars held for this purchase, decimal string'),
  priceMicros: z.string().nullable().describe('Micro-dollars charged once the first SMS arrives'),
  expiresAt: z.iso.datetime().nullable(),
  cancelAllowedAt: z.iso.datetime().nullable(),
  failureReason: z.string().nullable(),
  messages: z.array(smsSchema),
  actions: z.object({ cancel: z.boolean(), retry: z.boolean(), finish: z.boolean() }).describe('Actions the activation accepts right now'),
  createdAt: z.iso.datetime(),
});
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) });
const walletSchema = z.object({ availableMicros: z.string(), heldMicros: z.string() });
const ledgerEntrySchema = z.object({
  id: z.string(),
  kind: z.enum(['CREDIT', 'DEBIT', 'HOLD', 'CAPTURE', 'RELEASE']),
  availableDelta: z.string().describe('Change of the available balance, micro-dollars (negative: spent or held)'),
  heldDelta: z.string().describe('Change of the held funds, micro-dollars'),
  memo: z.string(),
  createdAt: z.iso.datetime(),
});
const webhookSchema = webhookViewSchema;
const countryPriceSchema = z.object({ iso2: z.string(), name: z.string(), priceMicros: z.string(), stock: z.number().int() });
const serviceSchema = z.object({
  code: z.string(),
  name: z.string(),
  score: z.number().describe('Relevance in [0, 1]; 1 for an exact match, 0 for an empty query'),
  match: z.enum(['exact', 'prefix', 'fuzzy', 'similar', 'none']),
  bestPriceMicros: z.string().nullable(),
  stock: z.number().int(),
  topCountries: z.array(countryPriceSchema).describe('The cheapest countries it is sold in'),
});
const offerSchema = z.object({ serviceCode: z.string(), serviceName: z.string(), countryIso: z.string(), countryName: z.string(), priceMicros: z.string(), stock: z.number().int() });
const priceSchema = z.object({
  serviceCode: z.string(),
  countryIso: z.string(),
  priceMicros: z.string().describe('The cheapest sell price, micro-dollars'),
  stock: z.number().int(),
  levels: z.array(z.object({ priceMicros: z.string(), stock: z.number().int() })).describe('Numbers on sale at each price, cheapest first: a higher maxPriceMicros reaches more'),
  successRate: z.number().min(0).max(1).nullable().describe('SMS received ÷ numbers sold over the last 24 h (null: none sold)'),
  sold: z.number().int().describe('Numbers sold over the last 24 h, the sample behind successRate'),
});

// ── Requests ──
const cursor = z.string().regex(/^\d{1,18}$/, 'must be the nextCursor of the previous page').describe('nextCursor of the previous page');
const servicesQuery = { query: z.object({ q: z.string().max(100).default('').describe('Search text (name or alias)'), limit: z.coerce.number().int().min(1).max(100).default(20) }) };
const offersQuery = { query: z.object({ service: serviceCode, country: countryIso.optional() }) };
const pricesQuery = { query: z.object({ service: serviceCode.optional(), country: countryIso.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) };
const purchase = { body: z.object({ service: serviceCode, country: countryIso, maxPriceMicros: positiveMicros.optional() }).strict() };
const byId = { params: activationIdParams };
const listQuery = {
  query: z.object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: cursor.optional(),
    status: activationStatus.optional(),
    service: serviceCode.optional(),
    country: countryIso.optional(),
  }),
};
const ledgerQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: cursor.optional() }) };
const webhookBody = webhookSettingsBody;

/** Refusals of an activation action (the workflow's validators and the race with its end). */
const ACTION_ERRORS: FailureCode[] = ['NOT_FOUND', 'ACTIVATION_CLOSED', 'ACTIVATION_NOT_READY', 'ACTION_IN_PROGRESS', 'PROVIDER_ERROR'];

export interface V1Deps {
  apiKeys: ApiKeyService;
  partnerWebhooks: PartnerWebhookService;
  partnerEvents: PartnerEvents;
  audit: AuditLog;
  activations: ActivationService;
  catalog: CatalogService;
  wallet: WalletService;
  redis: Redis;
  rateLimits: RateLimits;
  security: SecurityConfig;
  /** Delivery rates for /prices; without it successRate is null. */
  health?: Pick<ProviderHealth, 'routeHealth'>;
}

interface V1Route {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  scope: ApiKeyScope;
  /** Sensitive: needs the X-Signature headers (docs/partners.md). */
  signed?: boolean;
  purchase?: boolean;
  idempotent?: boolean;
  request: RequestSchema;
  status: number;
  /** Other success statuses with the same body (a repeated purchase: 200). */
  alsoStatus?: { status: number; description: string }[];
  response: z.ZodType;
  /** The refusals this route can answer besides the ones every route can (authentication, validation, rate limits). */
  errors?: FailureCode[];
  handle(req: Request, res: Response): Promise<unknown>;
}

/** Every partner endpoint, declared once: the Express routes and the OpenAPI document both come from here. */
export function v1RouteTable(deps: V1Deps): V1Route[] {
  const userId = (req: Request) => currentUser(req).id;
  const routes: V1Route[] = [
    {
      method: 'get',
      path: '/catalog/services',
      summary: 'Search services',
      scope: 'read',
      request: servicesQuery,
      status: 200,
      response: z.object({ services: z.array(serviceSchema) }),
      handle: async (_req, res) => {
        const { query } = valid(res, servicesQuery);
        return { services: await deps.catalog.searchServices(query.q, query.limit) };
      },
    },
    {
      method: 'get',
      path: '/catalog/offers',
      summary: 'Prices and stock of a service, per country',
      scope: 'read',
      request: offersQuery,
      status: 200,
      response: z.object({ offers: z.array(offerSchema) }),
      errors: ['UNKNOWN_SERVICE', 'UNKNOWN_COUNTRY'],
      handle: async (_req, res) => {
        const { query } = valid(res, offersQuery);
        await deps.catalog.requireService(query.service);
        if (query.country) await deps.catalog.requireCountry(query.country);
        return { offers: await deps.catalog.offersForService(query.service, query.country) };
      },
    },
    {
      method: 'get',
      path: '/prices',
      summary: 'Prices per service × country, with the stock at each price and the delivery rate',
      scope: 'read',
      request: pricesQuery,
      status: 200,
      response: z.object({ prices: z.array(priceSchema) }),
      errors: ['UNKNOWN_SERVICE', 'UNKNOWN_COUNTRY'],
      handle: async (_req, res) => {
        const { query } = valid(res, pricesQuery);
        if (query.service) await deps.catalog.requireService(query.service);
        if (query.country) await deps.catalog.requireCountry(query.country);
        const cells = (await deps.catalog.priceTable({ serviceCode: query.service, countryIso: query.country })).slice(0, query.limit);
        return { prices: await Promise.all(cells.map((cell) => priceView(deps, cell))) };
      },
    },
    {
      method: 'get',
      path: '/balance',
      summary: 'Wallet balance',
      scope: 'read',
      request: {},
      status: 200,
      response: z.object({ wallet: walletSchema }),
      handle: async (req) => ({ wallet: serializeWallet(await deps.wallet.ensureWallet(userId(req))) }),
    },
    {
      method: 'get',
      path: '/ledger',
      summary: 'Wallet ledger, newest first (cursor pagination)',
      scope: 'read',
      request: ledgerQuery,
      status: 200,
      response: z.object({ entries: z.array(ledgerEntrySchema), nextCursor: z.string().nullable() }),
      handle: async (req, res) => {
        const { query } = valid(res, ledgerQuery);
        await deps.wallet.ensureWallet(userId(req));
        const entries = await deps.wallet.listLedger(userId(req), { limit: query.limit + 1, beforeId: query.cursor === undefined ? undefined : BigInt(query.cursor) });
        const shown = entries.slice(0, query.limit);
        return { entries: shown.map(serializeLedgerEntry), nextCursor: entries.length > query.limit ? shown[shown.length - 1].id.toString() : null };
      },
    },
    {
      method: 'post',
      path: '/numbers',
      summary: 'Buy a number (signed; send an Idempotency-Key so a retry returns the same purchase)',
      scope: 'purchase',
      signed: true,
      purchase: true,
      idempotent: true,
      request: purchase,
      status: 201,
      alsoStatus: [{ status: 200, description: 'The same purchase again (its Idempotency-Key was used for this very request before)' }],
      response: z.object({ activation: activationSchema }),
      errors: ['UNKNOWN_SERVICE', 'UNKNOWN_COUNTRY', 'INSUFFICIENT_FUNDS', 'NO_OFFERS', 'NO_NUMBERS', 'MAX_PRICE_TOO_LOW', 'IDEMPOTENCY_KEY_REUSED', 'PURCHASE_FAILED', 'PROVIDERS_UNAVAILABLE'],
      handle: async (req, res) => {
        const { body } = valid(res, purchase);
        const header = req.get('Idempotency-Key');
        const { activation, created } = await deps.activations.purchase({
          userId: userId(req),
          serviceCode: body.service,
          countryIso: body.country,
          maxPriceMicros: body.maxPriceMicros ?? null,
          idempotencyKey: header === undefined ? null : idempotencyKey.parse(header),
        });
        res.status(created ? 201 : 200);
        return { activation };
      },
    },
    {
      method: 'get',
      path: '/numbers',
      summary: 'Your activations, newest first (cursor pagination; filters by status, service and country)',
      scope: 'read',
      request: listQuery,
      status: 200,
      response: z.object({ activations: z.array(activationSchema), nextCursor: z.string().nullable().describe('Send as cursor for the next page; null on the last') }),
      handle: async (req, res) => {
        const { query } = valid(res, listQuery);
        return deps.activations.page({
          userId: userId(req),
          limit: query.limit,
          status: query.status,
          serviceCode: query.service,
          countryIso: query.country,
          before: query.cursor === undefined ? undefined : BigInt(query.cursor),
        });
      },
    },
    {
      method: 'get',
      path: '/numbers/:id',
      summary: 'One activation, with its SMS',
      scope: 'read',
      request: byId,
      status: 200,
      response: z.object({ activation: activationSchema }),
      errors: ['NOT_FOUND'],
      handle: async (req, res) => ({ activation: await deps.activations.get(valid(res, byId).params.id, userId(req)) }),
    },
    {
      method: 'get',
      path: '/numbers/:id/sms',
      summary: 'The SMS an activation received, oldest first',
      scope: 'read',
      request: byId,
      status: 200,
      response: z.object({ messages: z.array(smsSchema) }),
      errors: ['NOT_FOUND'],
      handle: async (req, res) => ({ messages: (await deps.activations.get(valid(res, byId).params.id, userId(req))).messages }),
    },
    {
      method: 'post',
      path: '/numbers/:id/cancel',
      summary: 'Cancel before the first SMS (signed); the hold is released',
      scope: 'purchase',
      signed: true,
      request: byId,
      status: 200,
      response: z.object({ activation: activationSchema }),
      errors: [...ACTION_ERRORS, 'CANCEL_TOO_EARLY', 'SMS_ALREADY_RECEIVED'],
      handle: async (req, res) => ({ activation: await deps.activations.cancel(valid(res, byId).params.id, userId(req)) }),
    },
    {
      method: 'post',
      path: '/numbers/:id/retry',
      summary: 'Ask for another SMS on the same number',
      scope: 'purchase',
      request: byId,
      status: 200,
      response: z.object({ activation: activationSchema }),
      errors: [...ACTION_ERRORS, 'NO_SMS_YET', 'ALREADY_AWAITING_SMS'],
      handle: async (req, res) => ({ activation: await deps.activations.requestAnotherSms(valid(res, byId).params.id, userId(req)) }),
    },
    {
      method: 'post',
      path: '/numbers/:id/finish',
      summary: 'Finish the activation',
      scope: 'purchase',
      request: byId,
      status: 200,
      response: z.object({ activation: activationSchema }),
      errors: [...ACTION_ERRORS, 'NO_SMS_YET'],
      handle: async (req, res) => ({ activation: await deps.activations.finish(valid(res, byId).params.id, userId(req)) }),
    },
    {
      method: 'get',
      path: '/webhook',
      summary: 'Your webhook settings (the secret is never shown again)',
      scope: 'read',
      request: {},
      status: 200,
      response: z.object({ webhook: webhookSchema.nullable() }),
      handle: async (req) => ({ webhook: await deps.partnerWebhooks.get(userId(req)) }),
    },
    {
      method: 'put',
      path: '/webhook',
      summary: 'Set the webhook URL (signed); the signing secret is returned when created or rotated',
      scope: 'purchase',
      signed: true,
      request: webhookBody,
      status: 200,
      response: z.object({ webhook: webhookSchema, secret: z.string().nullable().describe('whsec_…: shown only now') }),
      errors: ['WEBHOOK_URL_INVALID'],
      handle: async (req, res) => {
        const { body } = valid(res, webhookBody);
        res.setHeader('Cache-Control', 'no-store');
        return deps.partnerWebhooks.put(userId(req), body, { ip: clientIp(req), apiKeyId: currentApiKey(res).keyId });
      },
    },
    ...webhookDeliveryV1Routes(deps),
  ];
  return routes;
}

/** One price cell with its delivery rate over the health window; a Redis outage leaves the rate unknown, never fails the list. */
async function priceView(deps: V1Deps, cell: PriceCell) {
  let sold = 0;
  let received = 0;
  if (deps.health) {
    const health = await deps.health.routeHealth(cell.providerIds, cell.serviceCode, cell.countryIso).catch(() => null);
    for (const snapshot of health?.values() ?? []) {
      sold += snapshot.purchases;
      received += snapshot.smsReceived;
    }
  }
  return {
    serviceCode: cell.serviceCode,
    countryIso: cell.countryIso,
    priceMicros: cell.priceMicros.toString(),
    stock: cell.stock,
    levels: cell.levels.map((level) => ({ priceMicros: level.priceMicros.toString(), stock: level.stock })),
    successRate: sold > 0 ? Math.min(1, received / sold) : null,
    sold,
  };
}

/** /api/v1: the partner API, authenticated by API keys; /api/v1/openapi.json describes it, /api/v1/docs shows it. */
export function v1Routes(deps: V1Deps): Router {
  const router = Router();
  const table = v1RouteTable(deps);
  const document = openApiDocument(table);
  const page = docsPage(document);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });

  const authenticate = requireApiKey(deps.apiKeys);
  const signature = requireSignature({ apiKeys: deps.apiKeys, redis: deps.redis, toleranceSeconds: deps.security.signatureToleranceSeconds, prefix: deps.security.rateLimits.prefix });
  for (const route of table) {
    const chain: RequestHandler[] = [authenticate, deps.rateLimits.apiKey, deps.rateLimits.user];
    if (route.purchase) chain.push(deps.rateLimits.purchase);
    chain.push(requireScope(route.scope));
    if (route.signed) chain.push(signature);
    chain.push(validate(route.request));
    router[route.method](route.path, ...chain, async (req: Request, res: Response) => {
      // A handler whose answer is not always 200 (purchase: 201 new, 200 repeated) sets the status itself.
      const body = await route.handle(req, res);
      // What is sent is what the document says: fields the schema does not name are dropped, and a
      // body that breaks it is our bug (a 500 with the details in the log), never a surprise for a client.
      const checked = route.response.safeParse(body);
      if (!checked.success) throw new Error(`${route.method.toUpperCase()} ${route.path}: response does not match its schema: ${checked.error.message}`);
      res.json(checked.data);
    });
  }

  // A known path with a method it does not answer: 405 with Allow, not a misleading 404.
  const methods = new Map<string, Set<string>>([
    ['/openapi.json', new Set(['GET'])],
    ['/docs', new Set(['GET'])],
  ]);
  for (const route of table) {
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method.toUpperCase());
    methods.set(route.path, set);
  }
  for (const [path, allowed] of methods) {
    const allow = [...allowed, ...(allowed.has('GET') ? ['HEAD'] : [])].join(', ');
    router.all(path, (req, res, next) => {
      res.setHeader('Allow', allow);
      next(new AppError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}.`, { allow: [...allowed] }));
    });
  }
  return router;
}

// ── OpenAPI 3.1, generated from the same zod schemas (z.toJSONSchema: draft 2020-12, which OpenAPI 3.1 uses) ──

type JsonSchema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>>; required?: string[] };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input');
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const SIGNATURE_PARAMETERS = [
  { name: 'X-Signature-Timestamp', in: 'header', required: true, schema: { type: 'string', pattern: '^\\d{1,12}$' }, description: 'Unix seconds; accepted within ±300 s' },
  { name: 'X-Signature-Nonce', in: 'header', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' }, description: 'Unique per request' },
  { name: 'X-Signature', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'hex HMAC-SHA256(signingSecret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(body))' },
];

/** What any route may answer besides its own refusals: the edge's checks, authentication, limits, our own faults. */
const COMMON_ERRORS: FailureCode[] = ['VALIDATION_ERROR', 'MALFORMED_JSON', 'INVALID_TEXT', 'DATA_INVALID', 'PAYLOAD_TOO_LARGE', 'API_KEY_REQUIRED', 'API_KEY_INVALID', 'INSUFFICIENT_SCOPE', 'RATE_LIMITED', 'INTERNAL'];
const SIGNATURE_ERRORS: FailureCode[] = ['SIGNATURE_INVALID', 'SIGNATURE_EXPIRED', 'NONCE_REUSED'];

/** Every status a route answers: its success status(es), then each error status with the codes that produce it (httpStatus decides). */
function responsesOf(route: V1Route): Record<string, unknown> {
  const ok = { 'application/json': { schema: jsonSchema(route.response, 'output') } };
  const responses: Record<string, unknown> = { [String(route.status)]: { description: route.status === 201 ? 'Created' : 'OK', content: ok } };
  for (const also of route.alsoStatus ?? []) responses[String(also.status)] = { description: also.description, content: ok };
  const byStatus = new Map<number, FailureCode[]>();
  for (const code of [...COMMON_ERRORS, ...(route.signed ? SIGNATURE_ERRORS : []), ...(route.errors ?? [])]) {
    const status = httpStatus[code];
    const codes = byStatus.get(status) ?? [];
    if (!codes.includes(code)) codes.push(code);
    byStatus.set(status, codes);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const notes = codes.map((code) => ERROR_NOTES[code] ? `${code} (${ERROR_NOTES[code]})` : code);
    responses[String(status)] = { description: notes.join(', '), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return responses;
}

const ERROR_NOTES: Partial<Record<FailureCode, string>> = {
  INVALID_TEXT: 'U+0000, a control character or an unpaired surrogate in any string',
  RATE_LIMITED: 'see Retry-After',
  IDEMPOTENCY_KEY_REUSED: 'the Idempotency-Key was used for a different request',
  CANCEL_TOO_EARLY: 'details.retryAfterSeconds',
  ACTIVATION_CLOSED: 'details.status names the status that won',
};

export function openApiDocument(routes: V1Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const params = [
      ...parameters(route.request.params, 'path'),
      ...parameters(route.request.query, 'query'),
      ...(route.idempotent ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 8, maxLength: 200 } }] : []),
      ...(route.signed ? SIGNATURE_PARAMETERS : []),
    ];
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      operationId: `${route.method}${route.path.replace(/\/:?([a-z])/gi, (_m, c: string) => c.toUpperCase()).replace(/[^A-Za-z]/g, '')}`,
      'x-scope': route.scope,
      'x-signed': Boolean(route.signed),
      ...(params.length ? { parameters: params } : {}),
      ...(route.request.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.request.body, 'input') } } } } : {}),
      responses: responsesOf(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'SimGate partner API', version: '1.0.0', description: 'Temporary phone numbers for SMS verification. Authentication, scopes and request signing: docs/partners.md.' },
    servers: [{ url: '/api/v1' }],
    security: [{ apiKeyHeader: [] }, { apiKeyBearer: [] }],
    components: {
      securitySchemes: {
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        apiKeyBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'sg_<prefix>_<secret>' },
      },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    paths,
  };
}

// ── /api/v1/docs: the document as a page, rendered here (no script, no CDN: it works offline and under the CSP) ──

const escapeHtml = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function docsPage(document: Record<string, unknown>): string {
  const info = document.info as { title: string; description: string; version: string };
  const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
  const sections: string[] = [];
  const toc: string[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const id = String(operation.operationId);
      toc.push(`<li><a href="#${escapeHtml(id)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a> — ${escapeHtml(operation.summary)}</li>`);
      const parameters = (operation.parameters ?? []) as { name: string; in: string; required: boolean; description?: string; schema: unknown }[];
      const rows = parameters
        .map((p) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code>${p.description ? `<br>${escapeHtml(p.description)}` : ''}</td></tr>`)
        .join('');
      const body = (operation.requestBody as { content: Record<string, { schema: unknown }> } | undefined)?.content['application/json'].schema;
      const responses = Object.entries(operation.responses as Record<string, { description: string; content?: Record<string, { schema: unknown }> }>)
        .map(([status, response]) => {
          const schema = response.content?.['application/json'].schema as { $ref?: string } | undefined;
          const shown = schema && !schema.$ref ? `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>` : '';
          return `<tr><td><b>${escapeHtml(status)}</b></td><td>${escapeHtml(response.description)}${shown}</td></tr>`;
        })
        .join('');
      sections.push(`<section id="${escapeHtml(id)}">
<h2><code>${method.toUpperCase()} /api/v1${escapeHtml(path)}</code></h2>
<p>${escapeHtml(operation.summary)}. Scope <b>${escapeHtml(operation['x-scope'])}</b>${operation['x-signed'] ? ', <b>signed</b> (X-Signature headers)' : ''}.</p>
${rows ? `<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${rows}</table>` : ''}
${body ? `<h3>Body (application/json)</h3><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre>` : ''}
<h3>Responses</h3><table>${responses}</table>
</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f4f6fa;padding:.75rem;overflow:auto;max-height:24rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #d7dce5;padding:.35rem .5rem;text-align:left;vertical-align:top}section{border-top:2px solid #e3e7ee;margin-top:2rem}</style>
</head><body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)} Send your API key as <code>X-Api-Key</code> (or <code>Authorization: Bearer sg_…</code>). Errors are <code>{"error":{"code","message","details?"}}</code>. The machine-readable document: <a href="openapi.json">openapi.json</a>.</p>
<ul>${toc.join('')}</ul>
${sections.join('\n')}
</body></html>`;
}

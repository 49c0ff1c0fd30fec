import type { Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import type Redis from 'ioredis';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import type { ApiKeyScope, ApiKeyService } from '../../auth/api-keys.service';
import type { PartnerWebhookService } from '../../auth/partner-webhooks.service';
import type { PartnerEvents } from '../../activations/partner-events';
import type { AuditLog } from '../../lib/audit';
import type { CatalogService } from '../../catalog/catalog.service';
import type { SecurityConfig } from '../../config/app.config';
import type { WalletService } from '../../wallet';
import { currentApiKey, requireApiKey, requireScope } from '../middleware/api-key';
import { currentUser } from '../middleware/auth';
import { clientIp, type RateLimits } from '../middleware/rate-limit';
import { requireSignature } from '../middleware/signing';
import { valid, validate, type RequestSchema } from '../middleware/validate';
import { activationIdParams, countryIso, idempotencyKey, positiveMicros, serviceCode } from '../schemas';
import { serializeWallet } from '../serializers';
import { webhookDeliveryV1Routes, webhookSettingsBody, webhookViewSchema } from './partner-webhooks';

// ── Response shapes (documentation; the handlers return what the shared services return) ──
const smsSchema = z.object({ seq: z.number().int(), code: z.string().nullable(), text: z.string(), receivedAt: z.iso.datetime() });
const activationSchema = z.object({
  id: z.string().describe('Activation id (also the Temporal workflow id)'),
  userId: z.uuid(),
  status: z.enum(['RESERVED', 'ACTIVE', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'FAILED']),
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
const webhookSchema = webhookViewSchema;
const serviceSchema = z.object({ code: z.string(), name: z.string(), bestPriceMicros: z.string().nullable(), stock: z.number().int() });
const offerSchema = z.object({ serviceCode: z.string(), serviceName: z.string(), countryIso: z.string(), countryName: z.string(), priceMicros: z.string(), stock: z.number().int() });

// ── Requests ──
const servicesQuery = { query: z.object({ q: z.string().max(100).default('').describe('Search text (name or alias)'), limit: z.coerce.number().int().min(1).max(100).default(20) }) };
const offersQuery = { query: z.object({ service: serviceCode, country: countryIso.optional() }) };
const purchase = { body: z.object({ service: serviceCode, country: countryIso, maxPriceMicros: positiveMicros.optional() }).strict() };
const byId = { params: activationIdParams };
const listQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }) };
const webhookBody = webhookSettingsBody;

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
  response: z.ZodType;
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
      handle: async (_req, res) => {
        const { query } = valid(res, offersQuery);
        await deps.catalog.requireService(query.service);
        if (query.country) await deps.catalog.requireCountry(query.country);
        return { offers: await deps.catalog.offersForService(query.service, query.country) };
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
      method: 'post',
      path: '/numbers',
      summary: 'Buy a number (signed; send an Idempotency-Key so a retry returns the same purchase)',
      scope: 'purchase',
      signed: true,
      purchase: true,
      idempotent: true,
      request: purchase,
      status: 201,
      response: z.object({ activation: activationSchema }),
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
      summary: 'Your activations, newest first',
      scope: 'read',
      request: listQuery,
      status: 200,
      response: z.object({ activations: z.array(activationSchema) }),
      handle: async (req, res) => {
        const { query } = valid(res, listQuery);
        return { activations: await deps.activations.list({ userId: userId(req), limit: query.limit }) };
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
      handle: async (req, res) => ({ activation: await deps.activations.get(valid(res, byId).params.id, userId(req)) }),
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

/** /api/v1: the partner API, authenticated by API keys; /api/v1/openapi.json describes it. */
export function v1Routes(deps: V1Deps): Router {
  const router = Router();
  const table = v1RouteTable(deps);
  const document = openApiDocument(table);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  const authenticate = requireApiKey(deps.apiKeys);
  const signature = requireSignature({ apiKeys: deps.apiKeys, redis: deps.redis, toleranceSeconds: deps.security.signatureToleranceSeconds, prefix: deps.security.rateLimits.prefix });
  for (const route of table) {
    const chain: RequestHandler[] = [authenticate, deps.rateLimits.user];
    if (route.purchase) chain.push(deps.rateLimits.purchase);
    chain.push(requireScope(route.scope));
    if (route.signed) chain.push(signature);
    chain.push(validate(route.request));
    router[route.method](route.path, ...chain, async (req: Request, res: Response) => {
      // A handler whose answer is not always 200 (purchase: 201 new, 200 repeated) sets the status itself.
      res.json(await route.handle(req, res));
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
  { name: 'X-Signature-Timestamp', in: 'header', required: true, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Unix seconds; accepted within ±300 s' },
  { name: 'X-Signature-Nonce', in: 'header', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' }, description: 'Unique per request' },
  { name: 'X-Signature', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'hex HMAC-SHA256(signingSecret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(body))' },
];

export function openApiDocument(routes: V1Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
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
      responses: {
        [String(route.status)]: { description: 'OK', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } },
        '400': errorResponse('VALIDATION_ERROR, INVALID_TEXT (U+0000, a control character or an unpaired surrogate in any string)'),
        '401': errorResponse('API_KEY_REQUIRED, API_KEY_INVALID' + (route.signed ? ', SIGNATURE_INVALID, SIGNATURE_EXPIRED, NONCE_REUSED' : '')),
        '403': errorResponse('INSUFFICIENT_SCOPE'),
        ...(route.idempotent ? { '422': errorResponse('IDEMPOTENCY_KEY_REUSED (the Idempotency-Key was used for a different request)') } : {}),
        '429': errorResponse('RATE_LIMITED (see Retry-After)'),
      },
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

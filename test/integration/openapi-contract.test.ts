import { randomBytes, randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { signRequest } from '../../src/auth/signing';
import { startSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { createKey, type PartnerKey } from './security/helpers';

/**
 * The contract test: the OpenAPI document at /api/v1/openapi.json replayed against the running
 * API. Cases are generated from the document itself — for every operation a valid request, then
 * each parameter and body property in turn made wrong in every way its schema forbids (wrong type,
 * out of range, too long, against the pattern, not in the enum, missing, NUL bytes, unknown
 * properties), plus malformed JSON and every authentication failure — signed whenever the
 * operation says `x-signed`. Every answer must have a status the operation documents, and a JSON
 * body valid against the schema documented for that status (ajv, JSON Schema 2020-12 as OpenAPI
 * 3.1 uses). Expected: 0 server errors, 0 mismatches.
 */

type Schema = Record<string, any>;
interface Operation {
  operationId: string;
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { content?: { 'application/json': { schema: Schema } } }>;
  'x-scope': string;
  'x-signed': boolean;
}
interface Case {
  label: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
  key: 'buyer' | 'reader' | 'none' | 'bad';
  sign: 'good' | 'none' | 'bad';
  operation: Operation;
}

interface Context {
  activationId: string;
  withSmsId: string;
  countryIso: string;
  /** A partner webhook event that exists, for the replay route. */
  eventId: string;
}

const SIGNATURE_HEADERS = new Set(['X-Signature-Timestamp', 'X-Signature-Nonce', 'X-Signature']);

/** Values that the schema's patterns cannot generate (an id that exists, a service on sale), by parameter or property name. */
function knownGood(name: string, context: Context, template = ''): string | undefined {
  switch (name) {
    case 'id':
      // Another SMS and finish need a number with an SMS; the rest one without (so a cancel can succeed).
      return /\/(retry|finish)$/.test(template) ? context.withSmsId : context.activationId;
    case 'eventId':
      return context.eventId;
    case 'service':
      return 'tg';
    case 'country':
      return context.countryIso;
    case 'cursor':
      return '9000000000';
    case 'Idempotency-Key':
      return `contract-${randomUUID()}`;
    case 'url':
      return 'https://example.com/simgate-events';
    case 'maxPriceMicros':
      return '5000000';
    default:
      return undefined;
  }
}

/** A valid value for a schema, from its own constraints. */
function sample(schema: Schema): unknown {
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf[0]);
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.default ?? schema.minimum ?? 1;
    case 'boolean':
      return schema.default ?? true;
    case 'string':
      if (schema.default !== undefined) return schema.default;
      if (schema.format === 'uri') return 'https://example.com/x';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return 'x';
  }
}

/** Every way a value can break the schema, as the text that goes on the wire. */
function invalidValues(schema: Schema): { why: string; value: string }[] {
  const out: { why: string; value: string }[] = [{ why: 'NUL byte', value: 'a\u0000b' }, { why: 'control character', value: 'a\u0007b' }];
  const branches = schema.anyOf ?? [schema];
  const types = new Set(branches.map((b: Schema) => b.type));
  if (schema.enum) out.push({ why: 'not in enum', value: 'NOT_IN_ENUM' });
  if (types.has('integer') || types.has('number')) {
    if (!types.has('string')) out.push({ why: 'not a number', value: 'abc' }, { why: 'fraction', value: '1.5' });
    const numeric = branches.find((b: Schema) => b.type === 'integer' || b.type === 'number')!;
    if (numeric.minimum !== undefined && Math.abs(numeric.minimum) < 1e15) out.push({ why: 'below minimum', value: String(numeric.minimum - 1) });
    if (numeric.maximum !== undefined && Math.abs(numeric.maximum) < 1e15) out.push({ why: 'above maximum', value: String(numeric.maximum + 1) });
    out.push({ why: 'huge', value: '9'.repeat(30) }, { why: 'negative', value: '-1' });
  }
  for (const branch of branches.filter((b: Schema) => b.type === 'string')) {
    if (branch.pattern) out.push({ why: 'against the pattern', value: '!!~' }, { why: 'unicode against the pattern', value: 'телеграм' });
    if (branch.maxLength !== undefined) out.push({ why: 'too long', value: 'a'.repeat(branch.maxLength + 1) });
    if ((branch.minLength ?? 0) > 0 || branch.pattern) out.push({ why: 'empty', value: '' });
    if (branch.format === 'uri') out.push({ why: 'not a URL', value: 'not a url' }, { why: 'not http', value: 'ftp://example.com/x' });
  }
  if (types.has('boolean')) out.push({ why: 'not a boolean', value: 'yes' });
  return out;
}

/** The same, as JSON values for a body property (types matter in JSON). */
function invalidJsonValues(schema: Schema): { why: string; value: unknown }[] {
  const out: { why: string; value: unknown }[] = [
    { why: 'null', value: null },
    { why: 'object', value: { nested: true } },
    { why: 'array', value: [1] },
  ];
  const types = new Set((schema.anyOf ?? [schema]).map((b: Schema) => b.type));
  if (!types.has('string')) out.push({ why: 'string', value: 'text' });
  if (!types.has('integer') && !types.has('number')) out.push({ why: 'number', value: 12 });
  if (!types.has('boolean')) out.push({ why: 'boolean', value: true });
  if (types.has('integer')) out.push({ why: 'float', value: 1.5 }, { why: 'unsafe integer', value: 2 ** 60 }, { why: 'negative', value: -5 });
  for (const invalid of invalidValues(schema)) if (!/^(not a number|fraction|huge|negative|below|above)/.test(invalid.why) || types.has('string')) out.push(invalid);
  return out;
}

function generateCases(document: { paths: Record<string, Record<string, Operation>> }, context: Context): Case[] {
  const cases: Case[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const signed = operation['x-signed'];
      const parameters = (operation.parameters ?? []).filter((p) => !SIGNATURE_HEADERS.has(p.name));
      const bodySchema = operation.requestBody?.content['application/json'].schema;
      const validParams = (withOptional: boolean) => {
        const values: Record<string, { in: string; value: string }> = {};
        for (const p of parameters) {
          if (!p.required && !withOptional) continue;
          values[p.name] = { in: p.in, value: knownGood(p.name, context, template) ?? String(sample(p.schema)) };
        }
        return values;
      };
      const validBody = () => {
        if (!bodySchema) return undefined;
        const body: Record<string, unknown> = {};
        for (const [name, property] of Object.entries(bodySchema.properties ?? {})) body[name] = knownGood(name, context) ?? sample(property as Schema);
        return body;
      };
      const build = (label: string, values: Record<string, { in: string; value: string }>, body: string | undefined, extra: Partial<Case> = {}): Case => {
        let path = template;
        const query: Record<string, string> = {};
        const headers: Record<string, string> = {};
        for (const [name, { in: where, value }] of Object.entries(values)) {
          if (where === 'path') path = path.replace(`{${name}}`, encodeURIComponent(value));
          else if (where === 'query') query[name] = value;
          else headers[name] = value;
        }
        return { label: `${method.toUpperCase()} ${template}: ${label}`, method: method.toUpperCase(), path: `/api/v1${path}`, query, headers, body, key: operation['x-scope'] === 'read' ? 'reader' : 'buyer', sign: signed ? 'good' : 'none', operation, ...extra };
      };
      const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

      cases.push(build('valid, all parameters', validParams(true), json(validBody())));
      cases.push(build('valid, required parameters only', validParams(false), json(validBody())));
      if (parameters.some((p) => p.name === 'id')) {
        cases.push(build('unknown id', { ...validParams(false), id: { in: 'path', value: `act-${randomBytes(16).toString('hex')}` } }, json(validBody())));
      }
      for (const p of parameters) {
        for (const invalid of invalidValues(p.schema)) {
          // Header values cannot carry control characters at all (fetch refuses to send them).
          if (p.in === 'header' && /[\u0000-\u001f]/.test(invalid.value)) continue;
          if (p.in === 'path' && invalid.value === '') continue;
          cases.push(build(`${p.name} ${invalid.why}`, { ...validParams(true), [p.name]: { in: p.in, value: invalid.value } }, json(validBody())));
        }
      }
      if (bodySchema) {
        for (const [name, property] of Object.entries(bodySchema.properties ?? {})) {
          for (const invalid of invalidJsonValues(property as Schema)) cases.push(build(`body.${name} ${invalid.why}`, validParams(true), json({ ...validBody(), [name]: invalid.value })));
          if ((bodySchema.required ?? []).includes(name)) {
            const { [name]: _dropped, ...rest } = validBody()!;
            cases.push(build(`body.${name} missing`, validParams(true), json(rest)));
          }
        }
        if (bodySchema.additionalProperties === false) cases.push(build('body with an unknown property', validParams(true), json({ ...validBody(), unexpected: 1 })));
        cases.push(build('body not JSON', validParams(true), '{"service": '));
        cases.push(build('body an array', validParams(true), '[]'));
        cases.push(build('body missing', validParams(true), undefined));
        cases.push(build('body with a NUL in a key', validParams(true), JSON.stringify({ ...validBody(), 'a\u0000': 1 })));
      }
      cases.push(build('no API key', validParams(true), json(validBody()), { key: 'none' }));
      cases.push(build('unknown API key', validParams(true), json(validBody()), { key: 'bad' }));
      if (operation['x-scope'] === 'purchase') cases.push(build('read-only key', validParams(true), json(validBody()), { key: 'reader' }));
      if (signed) {
        cases.push(build('unsigned', validParams(true), json(validBody()), { sign: 'none' }));
        cases.push(build('wrong signature', validParams(true), json(validBody()), { sign: 'bad' }));
      }
    }
  }
  return cases;
}

describe('OpenAPI contract: /api/v1 against its own document', () => {
  let system: TestSystem;
  let buyer: PartnerKey;
  let reader: PartnerKey;
  let document: any;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    system = await startSystem();
    const owner = await system.customer(200_000_000n);
    // A webhook endpoint from the start, so each purchase below leaves an event the replay route can find.
    receiver = await startWebhookReceiver();
    const saved = await system.request('PUT', '/api/webhook', { token: owner.token, body: { url: receiver.url, enabled: true } });
    expect(saved.status).toBe(200);
    buyer = await createKey(system, owner.token, ['purchase'], 'contract buyer');
    reader = await createKey(system, owner.token, ['read'], 'contract reader');
    document = (await system.request('GET', '/api/v1/openapi.json')).body;
  });
  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  async function send(c: Case) {
    const keys = { buyer, reader };
    const query = new URLSearchParams(c.query).toString();
    const path = query ? `${c.path}?${query}` : c.path;
    const headers: Record<string, string> = { ...c.headers };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    if (c.key === 'buyer' || c.key === 'reader') headers['x-api-key'] = keys[c.key].key;
    if (c.key === 'bad') headers['x-api-key'] = `sg_0123456789ab_${'A'.repeat(43)}`;
    const signer = c.key === 'reader' ? reader : buyer;
    if (c.sign !== 'none') {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomUUID();
      headers['x-signature-timestamp'] = timestamp;
      headers['x-signature-nonce'] = nonce;
      headers['x-signature'] = c.sign === 'bad' ? '0'.repeat(64) : signRequest(signer.signingSecret, { method: c.method, path, timestamp, nonce, body: c.body ?? '' });
    }
    const response = await fetch(`${system.api.url}${path}`, { method: c.method, headers, body: c.body });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', text, allow: response.headers.get('allow') };
  }

  it('answers every generated case with a documented status and a body its schema accepts, and never a 5xx', async () => {
    // Two real activations of this customer for the {id} routes: one waiting, one with an SMS.
    const offer = await system.container.db.offer.findFirstOrThrow({ where: { serviceCode: 'tg', stock: { gt: 0 }, providerId: { in: Object.values(TENANT_PROVIDER) } } });
    const buy = async () => {
      const body = JSON.stringify({ service: 'tg', country: offer.countryIso });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = randomUUID();
      const bought = await system.request('POST', '/api/v1/numbers', {
        body,
        headers: {
          'x-api-key': buyer.key,
          'x-signature-timestamp': timestamp,
          'x-signature-nonce': nonce,
          'x-signature': signRequest(buyer.signingSecret, { method: 'POST', path: '/api/v1/numbers', timestamp, nonce, body }),
        },
      });
      expect(bought.status).toBe(201);
      return bought.body.activation.id as string;
    };
    const activationId = await buy();
    const withSmsId = await buy();
    const row = await system.container.db.activation.findUniqueOrThrow({ where: { id: withSmsId } });
    const tenant = Object.entries(TENANT_PROVIDER).find(([, id]) => id === row.providerId)![0];
    await system.sim('POST', `/control/${tenant}/activations/${row.upstreamId}/sms`, { code: '13579' });
    await waitFor(async () => (await system.container.db.smsMessage.count({ where: { activationId: withSmsId } })) > 0, { timeoutMs: 20_000, intervalMs: 200 });

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
    const resolve = (schema: Schema) => (schema.$ref ? { $ref: `openapi${schema.$ref}` } : schema);

    await waitFor(async () => (await system.container.db.webhookDelivery.count({ where: { activationId } })) > 0, { timeoutMs: 20_000, intervalMs: 200 });
    const event = await system.container.db.webhookDelivery.findFirstOrThrow({ where: { activationId } });
    const cases = generateCases(document, { activationId, withSmsId, countryIso: offer.countryIso, eventId: event.id });
    const serverErrors: string[] = [];
    const mismatches: string[] = [];
    const statuses = new Map<string, Set<number>>();
    let validated = 0;
    for (const c of cases) {
      const answer = await send(c);
      const { operation } = c;
      const seen = statuses.get(operation.operationId) ?? new Set<number>();
      seen.add(answer.status);
      statuses.set(operation.operationId, seen);
      if (answer.status >= 500) serverErrors.push(`${c.label} → ${answer.status} ${answer.text.slice(0, 200)}`);
      const documented = operation.responses[String(answer.status)];
      if (!documented) {
        mismatches.push(`${c.label} → undocumented status ${answer.status}: ${answer.text.slice(0, 200)}`);
        continue;
      }
      const schema = documented.content?.['application/json']?.schema;
      if (!schema) continue;
      if (answer.type !== 'application/json; charset=utf-8') {
        mismatches.push(`${c.label} → ${answer.status} with content type ${answer.type}`);
        continue;
      }
      validated += 1;
      const validator = ajv.compile(resolve(schema));
      if (!validator(JSON.parse(answer.text))) mismatches.push(`${c.label} → ${answer.status} body breaks its schema: ${ajv.errorsText(validator.errors)}: ${answer.text.slice(0, 300)}`);
    }
    expect({ cases: cases.length, serverErrors, mismatches }).toEqual({ cases: cases.length, serverErrors: [], mismatches: [] });
    expect(cases.length).toBeGreaterThan(200);
    expect(validated).toBe(cases.length);
    // The generated cases reach success and refusal alike on every operation.
    for (const [operationId, seen] of statuses) {
      expect({ operationId, success: [...seen].some((s) => s < 300), refused: [...seen].some((s) => s >= 400) }).toEqual({ operationId, success: true, refused: true });
    }
  }, 300_000);

  it('answers 405 with Allow for a known path and a method it does not serve', async () => {
    for (const [template, operations] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      const path = `/api/v1${template.replace('{id}', `act-${randomBytes(16).toString('hex')}`)}`;
      const served = Object.keys(operations).map((m) => m.toUpperCase());
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !served.includes(m))) {
        const response = await fetch(`${system.api.url}${path}`, { method, headers: { 'x-api-key': buyer.key } });
        expect({ path, method, status: response.status }).toEqual({ path, method, status: 405 });
        expect(response.headers.get('allow')?.split(', ')).toEqual(expect.arrayContaining(served));
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
      }
    }
  });

  it('serves a docs page naming every operation', async () => {
    const response = await fetch(`${system.api.url}/api/v1/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    for (const operations of Object.values(document.paths as Record<string, Record<string, { operationId: string }>>)) {
      for (const operation of Object.values(operations)) expect(html).toContain(`id="${operation.operationId}"`);
    }
    expect(html).not.toMatch(/<script/i);
  });
});


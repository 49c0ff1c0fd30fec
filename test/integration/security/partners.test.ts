import { randomUUID } from 'node:crypto';
import { signRequest } from '../../../src/auth/signing';
import { sha256Hex } from '../../../src/auth/tokens';
import { startSystem, type TestSystem } from '../../support/system';
import { createKey, partnerCall, type PartnerKey } from './helpers';

/**
 * Partner API keys (/api/keys) and the versioned partner API (/api/v1): scopes, revocation,
 * request signing (timestamp window, nonce replay), webhook settings, secrets at rest, OpenAPI.
 */
describe('partner API', () => {
  let system: TestSystem;
  let owner: { id: string; email: string; token: string };
  let reader: PartnerKey;
  let buyer: PartnerKey;

  beforeAll(async () => {
    system = await startSystem();
    owner = await system.customer(20_000_000n);
    reader = await createKey(system, owner.token, ['read'], 'reporting');
    buyer = await createKey(system, owner.token, ['read', 'purchase'], 'shop backend');
  });
  afterAll(async () => {
    await system?.stop();
  });

  describe('API keys', () => {
    it('shows the key and signing secret once, and stores only a hash and an envelope', async () => {
      expect(buyer.key).toMatch(/^sg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(buyer.signingSecret).toMatch(/^sgs_[A-Za-z0-9_-]{43}$/);
      const listed = await system.request('GET', '/api/keys', { token: owner.token });
      expect(listed.status).toBe(200);
      const text = JSON.stringify(listed.body);
      expect(text).not.toContain(buyer.key.slice('sg_'.length + 12 + 1));
      expect(text).not.toContain(buyer.signingSecret);
      expect(listed.body.apiKeys.map((k: { id: string }) => k.id).sort()).toEqual([reader.id, buyer.id].sort());
      expect(listed.body.apiKeys.find((k: { id: string }) => k.id === buyer.id)).toMatchObject({ name: 'shop backend', prefix: buyer.key.split('_')[1], scopes: ['purchase', 'read'] });

      const row = await system.container.db.apiKey.findUniqueOrThrow({ where: { id: buyer.id } });
      expect(row.keyHash).toBe(sha256Hex(buyer.key));
      expect(row.keyHash).not.toContain(buyer.key.slice('sg_'.length + 12 + 1));
      expect(row.signingSecret).toMatch(/^v\d+\./);
      expect(row.signingSecret).not.toContain(buyer.signingSecret);
      expect(system.container.secrets.decrypt(row.signingSecret, 'api-key-signing')).toBe(buyer.signingSecret);
      expect(() => system.container.secrets.decrypt(row.signingSecret, 'partner-webhook')).toThrow();
      expect(await system.container.db.auditLog.count({ where: { action: 'apikey.create', actorId: owner.id } })).toBe(2);
    });

    it('validates scopes', async () => {
      const bad = await system.request('POST', '/api/keys', { token: owner.token, body: { name: 'x', scopes: ['admin'] } });
      expect(bad.status).toBe(400);
      const none = await system.request('POST', '/api/keys', { token: owner.token, body: { name: 'x', scopes: [] } });
      expect(none.status).toBe(400);
    });

    it('authenticates by X-Api-Key or Bearer sg_…, and records lastUsedAt', async () => {
      const byHeader = await partnerCall(system, reader, 'GET', '/api/v1/balance');
      expect(byHeader.status).toBe(200);
      expect(byHeader.body.wallet).toEqual({ availableMicros: '20000000', heldMicros: '0' });
      const byBearer = await system.request('GET', '/api/v1/balance', { token: reader.key });
      expect(byBearer.status).toBe(200);
      const row = await system.container.db.apiKey.findUniqueOrThrow({ where: { id: reader.id } });
      expect(row.lastUsedAt).not.toBeNull();
    });

    it('refuses missing, malformed, unknown keys, and access tokens, on /api/v1', async () => {
      const missing = await system.request('GET', '/api/v1/balance');
      expect(missing.status).toBe(401);
      expect(missing.body.error.code).toBe('API_KEY_REQUIRED');
      const forged = `sg_${buyer.key.split('_')[1]}_${'A'.repeat(43)}`;
      const unknown = await system.request('GET', '/api/v1/balance', { headers: { 'x-api-key': forged } });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error.code).toBe('API_KEY_INVALID');
      expect((await system.request('GET', '/api/v1/balance', { headers: { 'x-api-key': 'not-a-key' } })).status).toBe(401);
      expect((await system.request('GET', '/api/v1/balance', { token: owner.token })).status).toBe(401);
      // …and an API key is not a session for the web API.
      expect((await system.request('GET', '/api/wallet', { token: buyer.key })).status).toBe(401);
    });

    it('a read key cannot buy, cancel or change the webhook (403 INSUFFICIENT_SCOPE)', async () => {
      const buy = await partnerCall(system, reader, 'POST', '/api/v1/numbers', { sign: true, body: { service: 'tg', country: 'ID' }, headers: { 'idempotency-key': `read-${randomUUID()}` } });
      expect(buy.status).toBe(403);
      expect(buy.body.error.code).toBe('INSUFFICIENT_SCOPE');
      const hook = await partnerCall(system, reader, 'PUT', '/api/v1/webhook', { sign: true, body: { url: 'https://hooks.example/simgate' } });
      expect(hook.status).toBe(403);
      const cancel = await partnerCall(system, reader, 'POST', `/api/v1/numbers/act-${'0'.repeat(32)}/cancel`, { sign: true });
      expect(cancel.status).toBe(403);
      expect(await system.container.db.activation.count({ where: { userId: owner.id } })).toBe(0);
    });

    it('a revoked key stops working at once; revocation is audited; others cannot revoke it', async () => {
      const temp = await createKey(system, owner.token, ['read'], 'temporary');
      expect((await partnerCall(system, temp, 'GET', '/api/v1/balance')).status).toBe(200);

      const stranger = await system.customer(0n);
      const foreign = await system.request('DELETE', `/api/keys/${temp.id}`, { token: stranger.token });
      expect(foreign.status).toBe(404);
      expect((await partnerCall(system, temp, 'GET', '/api/v1/balance')).status).toBe(200);

      const revoked = await system.request('DELETE', `/api/keys/${temp.id}`, { token: owner.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.apiKey.revokedAt).not.toBeNull();
      const after = await partnerCall(system, temp, 'GET', '/api/v1/balance');
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('API_KEY_INVALID');
      expect(await system.container.db.auditLog.count({ where: { action: 'apikey.revoke', targetId: temp.id } })).toBe(1);
    });
  });

  describe('partner endpoints and request signing', () => {
    it('reads the catalog', async () => {
      const services = await partnerCall(system, reader, 'GET', '/api/v1/catalog/services?q=tele&limit=5');
      expect(services.status).toBe(200);
      expect(services.body.services.length).toBeGreaterThan(0);
      const offers = await partnerCall(system, reader, 'GET', '/api/v1/catalog/offers?service=tg&country=ID');
      expect(offers.status).toBe(200);
      expect(offers.body.offers.length).toBeGreaterThan(0);
    });

    it('buys with a signed request, then refuses its replay, stale or tampered copies', async () => {
      const key = `partner-${randomUUID()}`;
      const body = { service: 'tg', country: 'ID' };
      const nonce = randomUUID();
      const bought = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, nonce, body, headers: { 'idempotency-key': key } });
      expect(bought.status).toBe(201);
      expect(bought.body.activation.status).toBe('ACTIVE');
      const activation = bought.body.activation;

      const replay = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, nonce, body, headers: { 'idempotency-key': key } });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('NONCE_REUSED');

      // Well outside ±300 s: the server's clock may tick a second between here and its check.
      const now = Math.floor(Date.now() / 1000);
      for (const timestamp of [now - 305, now + 305]) {
        const stale = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, timestamp, body, headers: { 'idempotency-key': `${key}-stale` } });
        expect(stale.status).toBe(401);
        expect(stale.body.error.code).toBe('SIGNATURE_EXPIRED');
      }

      const unsigned = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { body, headers: { 'idempotency-key': `${key}-unsigned` } });
      expect(unsigned.status).toBe(401);
      expect(unsigned.body.error.code).toBe('SIGNATURE_INVALID');

      const tamperedBody = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', {
        sign: true,
        body,
        headers: { 'idempotency-key': `${key}-tampered` },
        tamper: (h) => {
          h['x-signature'] = h['x-signature'].replace(/^./, (c) => (c === '0' ? '1' : '0'));
        },
      });
      expect(tamperedBody.status).toBe(401);
      expect(tamperedBody.body.error.code).toBe('SIGNATURE_INVALID');

      const otherSecret = await partnerCall(system, { ...buyer, signingSecret: reader.signingSecret }, 'POST', '/api/v1/numbers', { sign: true, body, headers: { 'idempotency-key': `${key}-other` } });
      expect(otherSecret.status).toBe(401);
      expect(otherSecret.body.error.code).toBe('SIGNATURE_INVALID');

      // Nothing but the first request bought anything.
      expect(await system.container.db.activation.count({ where: { userId: owner.id } })).toBe(1);

      // A retry with the same Idempotency-Key (and a new nonce) returns the same purchase.
      const retried = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, body, headers: { 'idempotency-key': key } });
      expect(retried.status).toBe(200);
      expect(retried.body.activation.id).toBe(activation.id);
      // The key with another body is not that purchase, nor a new one.
      const reused = await partnerCall(system, buyer, 'POST', '/api/v1/numbers', { sign: true, body: { ...body, country: 'GB' }, headers: { 'idempotency-key': key } });
      expect(reused.status).toBe(422);
      expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { activationId: activation.id } });
      expect(await system.container.db.activation.count({ where: { userId: owner.id } })).toBe(1);

      const read = await partnerCall(system, reader, 'GET', `/api/v1/numbers/${activation.id}`);
      expect(read.status).toBe(200);
      expect(read.body.activation.phone).toBe(activation.phone);

      const unsignedCancel = await partnerCall(system, buyer, 'POST', `/api/v1/numbers/${activation.id}/cancel`);
      expect(unsignedCancel.status).toBe(401);
      const cancelled = await partnerCall(system, buyer, 'POST', `/api/v1/numbers/${activation.id}/cancel`, { sign: true });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.activation.status).toBe('CANCELLED');
      const balance = await partnerCall(system, reader, 'GET', '/api/v1/balance');
      expect(balance.body.wallet).toEqual({ availableMicros: '20000000', heldMicros: '0' });
    });

    it('signs the path with its query: a signature for one URL does not fit another', async () => {
      const nonce = randomUUID();
      const timestamp = Math.floor(Date.now() / 1000);
      const signedFor = signRequest(buyer.signingSecret, { method: 'PUT', path: '/api/v1/webhook?x=1', timestamp: String(timestamp), nonce, body: '{"url":"https://hooks.example/a"}' });
      const response = await system.request('PUT', '/api/v1/webhook', {
        headers: { 'x-api-key': buyer.key, 'x-signature-timestamp': String(timestamp), 'x-signature-nonce': nonce, 'x-signature': signedFor },
        body: '{"url":"https://hooks.example/a"}',
      });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('SIGNATURE_INVALID');
    });

    it("cannot see or act on another user's activation", async () => {
      const other = await system.customer(5_000_000n);
      const bought = await system.request('POST', '/api/numbers', { token: other.token, headers: { 'Idempotency-Key': `other-${randomUUID()}` }, body: { service: 'tg', country: 'ID' } });
      expect(bought.status).toBe(201);
      const id = bought.body.activation.id as string;
      expect((await partnerCall(system, buyer, 'GET', `/api/v1/numbers/${id}`)).status).toBe(404);
      expect((await partnerCall(system, buyer, 'POST', `/api/v1/numbers/${id}/cancel`, { sign: true })).status).toBe(404);
      expect((await partnerCall(system, buyer, 'POST', `/api/v1/numbers/${id}/finish`)).status).toBe(404);
      const list = await partnerCall(system, buyer, 'GET', '/api/v1/numbers');
      expect(list.body.activations.map((a: { id: string }) => a.id)).not.toContain(id);
    });
  });

  describe('webhook settings', () => {
    it('generates a secret shown once, stores it encrypted, rotates on request, audits changes', async () => {
      const unsigned = await partnerCall(system, buyer, 'PUT', '/api/v1/webhook', { body: { url: 'https://hooks.example/simgate' } });
      expect(unsigned.status).toBe(401);

      const created = await partnerCall(system, buyer, 'PUT', '/api/v1/webhook', { sign: true, body: { url: 'https://hooks.example/simgate' } });
      expect(created.status).toBe(200);
      expect(created.body.webhook).toMatchObject({ url: 'https://hooks.example/simgate', enabled: true });
      const secret = created.body.secret as string;
      expect(secret).toMatch(/^whsec_/);

      const read = await partnerCall(system, reader, 'GET', '/api/v1/webhook');
      expect(read.status).toBe(200);
      expect(read.body.webhook.url).toBe('https://hooks.example/simgate');
      expect(JSON.stringify(read.body)).not.toContain(secret);

      const row = await system.container.db.partnerWebhook.findUniqueOrThrow({ where: { userId: owner.id } });
      expect(row.secret).toMatch(/^v\d+\./);
      expect(row.secret).not.toContain(secret);
      expect(system.container.secrets.decrypt(row.secret, 'partner-webhook')).toBe(secret);
      expect(await system.container.partnerWebhooks.secretFor(owner.id)).toBe(secret);

      const moved = await partnerCall(system, buyer, 'PUT', '/api/v1/webhook', { sign: true, body: { url: 'https://hooks.example/v2', enabled: false } });
      expect(moved.body).toMatchObject({ secret: null });
      expect(await system.container.partnerWebhooks.secretFor(owner.id)).toBe(secret);
      const rotated = await partnerCall(system, buyer, 'PUT', '/api/v1/webhook', { sign: true, body: { url: 'https://hooks.example/v2', rotateSecret: true } });
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(secret);
      expect(await system.container.db.auditLog.count({ where: { action: 'webhook.update', actorId: owner.id } })).toBe(3);

      const badUrl = await partnerCall(system, buyer, 'PUT', '/api/v1/webhook', { sign: true, body: { url: 'ftp://hooks.example' } });
      expect(badUrl.status).toBe(400);
    });
  });

  describe('OpenAPI document', () => {
    it('describes every partner endpoint, generated from the request schemas', async () => {
      const response = await system.request('GET', '/api/v1/openapi.json');
      expect(response.status).toBe(200);
      const doc = response.body;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(
        ['/balance', '/catalog/offers', '/catalog/services', '/numbers', '/numbers/{id}', '/numbers/{id}/cancel', '/numbers/{id}/finish', '/numbers/{id}/retry', '/webhook', '/webhook/deliveries', '/webhook/deliveries/{eventId}/replay'].sort(),
      );
      const purchase = doc.paths['/numbers'].post;
      expect(purchase['x-scope']).toBe('purchase');
      expect(purchase['x-signed']).toBe(true);
      expect(purchase.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['Idempotency-Key', 'X-Signature', 'X-Signature-Timestamp', 'X-Signature-Nonce']));
      expect(purchase.requestBody.content['application/json'].schema.required).toEqual(['service', 'country']);
      expect(purchase.responses['422'].description).toContain('IDEMPOTENCY_KEY_REUSED');
      expect(doc.paths['/numbers/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
      expect(doc.paths['/catalog/offers'].get.parameters.find((p: { name: string }) => p.name === 'service').required).toBe(true);
      expect(doc.paths['/webhook'].put['x-signed']).toBe(true);
      expect(doc.paths['/numbers/{id}/retry'].post['x-signed']).toBe(false);
      expect(doc.components.securitySchemes.apiKeyHeader).toEqual({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
    });
  });
});

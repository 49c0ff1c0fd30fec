import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startSystem, startWebhookSystem, TENANT_PROVIDER, type TestSystem } from '../support/system';
import { waitFor } from '../support/wait';
import { createKey, partnerCall } from './security/helpers';

/**
 * Every refusal is a clear 4xx with a stable code, the documented body shape
 * `{"error":{"code","message"[,"details"]}}`, no stack trace — and no money moved: the wallet,
 * its ledger, its holds, the user's activations and the simulator's numbers are compared
 * before and after each refused request.
 */

type Customer = Awaited<ReturnType<TestSystem['customer']>>;
type Response = { status: number; body: any; headers: Headers };

function expectError(response: Response, status: number, code: string) {
  const context = `${response.status} ${JSON.stringify(response.body)}`;
  expect({ status: response.status, code: response.body?.error?.code, context }).toEqual({ status, code, context });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(response.body)).toEqual(['error']);
  const { error } = response.body;
  expect(Object.keys(error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(true);
  expect(error.code).toMatch(/^[A-Z][A-Z_]+$/);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  const text = JSON.stringify(response.body);
  expect(text).not.toMatch(/\bstack\b|\n\s+at |node_modules|\/work\/|\.ts:\d+|Prisma|Temporal/i);
  return error as { code: string; message: string; details?: any };
}

describe('bad input is refused with a stable code and moves no money', () => {
  let system: TestSystem;
  let alice: Customer;
  let bob: Customer;
  /** Alice's number with no SMS; providers refuse cancels for 120 s. */
  let idle: { id: string; providerId: string; phone: string; heldMicros: string };

  beforeAll(async () => {
    system = await startSystem({
      polling: { initialMs: 200, maxMs: 1000 },
      providers: { 'hero-sim': { minCancelSeconds: 120 }, 'activate-sim': { minCancelSeconds: 120 } },
    });
    alice = await system.customer(5_000_000n);
    bob = await system.customer(5_000_000n);
    const bought = await system.request('POST', '/api/numbers', { token: alice.token, body: { service: 'wa', country: 'ID' } });
    expect(bought.status).toBe(201);
    idle = bought.body.activation;
  });
  afterAll(async () => {
    await system?.stop();
  });

  const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

  async function upstreamNumbers() {
    const all: { tenant: string; id: number; phone: string; state: string; codes: string[] }[] = [];
    for (const tenant of Object.keys(TENANT_PROVIDER)) {
      const { activations } = await system.sim('GET', `/control/${tenant}/activations`);
      all.push(...activations.map((a: { id: number; phone: string; state: string; codes: string[] }) => ({ tenant, id: a.id, phone: a.phone, state: a.state, codes: a.codes })));
    }
    return all;
  }

  /** Everything a refused request must leave untouched. */
  async function snapshot(...customers: Customer[]) {
    const { db } = system.container;
    const wallets = [];
    for (const customer of customers) {
      const wallet = await db.wallet.findUniqueOrThrow({ where: { userId: customer.id }, select: { id: true, available: true, held: true } });
      wallets.push({
        wallet,
        ledgerEntries: await db.ledgerEntry.count({ where: { walletId: wallet.id } }),
        holds: await db.hold.findMany({ where: { walletId: wallet.id }, select: { key: true, status: true, amount: true }, orderBy: { key: 'asc' } }),
        activations: await db.activation.findMany({ where: { userId: customer.id }, select: { id: true, status: true }, orderBy: { id: 'asc' } }),
        messages: await db.smsMessage.count({ where: { activation: { userId: customer.id } } }),
      });
    }
    return { wallets, upstream: await upstreamNumbers() };
  }

  /** Runs `refused` and checks that nothing of `customers`' money or numbers changed. */
  async function expectNothingMoved(customers: Customer[], refused: () => Promise<void>) {
    const before = await snapshot(...customers);
    await refused();
    expect(await snapshot(...customers)).toEqual(before);
    for (const customer of customers) expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  }

  const purchase = (body: unknown, options: { token?: string; headers?: Record<string, string> } = {}) =>
    system.request('POST', '/api/numbers', { token: options.token ?? alice.token, headers: { 'Idempotency-Key': `bad-${randomUUID()}`, ...options.headers }, body });

  describe('POST /api/numbers', () => {
    it('unknown service → 404 UNKNOWN_SERVICE', async () => {
      await expectNothingMoved([alice], async () => {
        const error = expectError(await purchase({ service: 'nosuchservice', country: 'ID' }), 404, 'UNKNOWN_SERVICE');
        expect(error.message).toContain('nosuchservice');
      });
    });

    it('unknown country → 404 UNKNOWN_COUNTRY', async () => {
      await expectNothingMoved([alice], async () => {
        const error = expectError(await purchase({ service: 'tg', country: 'ZZ' }), 404, 'UNKNOWN_COUNTRY');
        expect(error.message).toContain('ZZ');
      });
    });

    it.each([
      ['three-letter country', { service: 'tg', country: 'IDN' }, 'country'],
      ['digits as country', { service: 'tg', country: '62' }, 'country'],
      ['empty country', { service: 'tg', country: '' }, 'country'],
      ['service with punctuation', { service: 'tg!', country: 'ID' }, 'service'],
      ['service with spaces', { service: 'tele gram', country: 'ID' }, 'service'],
      ['empty service', { service: '', country: 'ID' }, 'service'],
      ['overlong service', { service: 'x'.repeat(41), country: 'ID' }, 'service'],
    ])('malformed %s → 400 VALIDATION_ERROR', async (_name, body, field) => {
      await expectNothingMoved([alice], async () => {
        const error = expectError(await purchase(body), 400, 'VALIDATION_ERROR');
        expect(error.details.issues.map((i: { path: string }) => i.path)).toContain(field);
      });
    });

    it('max price below the cheapest offer → 409 MAX_PRICE_TOO_LOW with details.minPriceMicros', async () => {
      const offers = await system.request('GET', '/api/catalog/offers?service=wa&country=ID');
      expect(offers.status).toBe(200);
      const cheapest = offers.body.offers[0].priceMicros as string;
      await expectNothingMoved([alice], async () => {
        const error = expectError(await purchase({ service: 'wa', country: 'ID', maxPriceMicros: '1' }), 409, 'MAX_PRICE_TOO_LOW');
        expect(error.details.minPriceMicros).toBe(cheapest);
        const justBelow = expectError(await purchase({ service: 'wa', country: 'ID', maxPriceMicros: (BigInt(cheapest) - 1n).toString() }), 409, 'MAX_PRICE_TOO_LOW');
        expect(justBelow.details.minPriceMicros).toBe(cheapest);
      });
    });

    it('no stock anywhere → 409 NO_OFFERS', async () => {
      // A pair every provider lists as out of stock, and a service no provider sells (both stable across catalog syncs).
      const [soldOut] = await system.container.db.$queryRaw<{ service_code: string; country_iso: string }[]>`
        SELECT service_code, country_iso FROM offers GROUP BY service_code, country_iso HAVING MAX(stock) = 0 ORDER BY 1, 2 LIMIT 1`;
      expect(soldOut).toBeDefined();
      const [neverSold] = await system.container.db.$queryRaw<{ code: string }[]>`
        SELECT s.code FROM services s WHERE s.code ~ '^[a-z0-9]+$' AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.service_code = s.code) ORDER BY 1 LIMIT 1`;
      await expectNothingMoved([alice], async () => {
        expectError(await purchase({ service: soldOut.service_code, country: soldOut.country_iso }), 409, 'NO_OFFERS');
        expectError(await purchase({ service: neverSold.code, country: 'ID' }), 409, 'NO_OFFERS');
      });
    });

    it('insufficient funds → 402 INSUFFICIENT_FUNDS', async () => {
      const poor = await system.customer(1_000n);
      const broke = await system.customer(0n);
      await expectNothingMoved([poor, broke], async () => {
        const error = expectError(await purchase({ service: 'wa', country: 'ID' }, { token: poor.token }), 402, 'INSUFFICIENT_FUNDS');
        expect(BigInt(error.details.requiredMicros)).toBeGreaterThan(1_000n);
        expectError(await purchase({ service: 'wa', country: 'ID' }, { token: broke.token }), 402, 'INSUFFICIENT_FUNDS');
        // A ceiling above the balance is refused too: the hold is the ceiling.
        expectError(await purchase({ service: 'wa', country: 'ID', maxPriceMicros: '6000000' }, { token: poor.token }), 402, 'INSUFFICIENT_FUNDS');
      });
    });

    it('malformed JSON → 400 MALFORMED_JSON', async () => {
      await expectNothingMoved([alice], async () => {
        for (const body of ['{"service":"tg",', '{service: "tg"}', "{'service':'tg'}", '"just a string"', 'nul']) {
          expectError(await purchase(body), 400, 'MALFORMED_JSON');
        }
      });
    });

    it.each([
      ['an unknown field', { service: 'tg', country: 'ID', quantity: 2 }],
      ['a numeric service', { service: 42, country: 'ID' }],
      ['an array country', { service: 'tg', country: ['ID'] }],
      ['a null service', { service: null, country: 'ID' }],
      ['a missing country', { service: 'tg' }],
      ['a negative maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: -1 }],
      ['a negative maxPriceMicros string', { service: 'tg', country: 'ID', maxPriceMicros: '-1' }],
      ['a fractional maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: 1.5 }],
      ['a fractional maxPriceMicros string', { service: 'tg', country: 'ID', maxPriceMicros: '1.5' }],
      ['a zero maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: 0 }],
      ['an exponent maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: '1e6' }],
      ['an unsafe-integer maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: 2 ** 53 + 2 }],
      ['a boolean maxPriceMicros', { service: 'tg', country: 'ID', maxPriceMicros: true }],
      ['an array body', [{ service: 'tg', country: 'ID' }]],
    ])('%s → 400 VALIDATION_ERROR', async (_name, body) => {
      await expectNothingMoved([alice], async () => {
        expectError(await purchase(body), 400, 'VALIDATION_ERROR');
      });
    });

    it('no body, or a body that is not JSON → 400 VALIDATION_ERROR', async () => {
      await expectNothingMoved([alice], async () => {
        expectError(await system.request('POST', '/api/numbers', { token: alice.token }), 400, 'VALIDATION_ERROR');
        expectError(
          await system.request('POST', '/api/numbers', { token: alice.token, body: 'service=tg&country=ID', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
          400,
          'VALIDATION_ERROR',
        );
      });
    });

    it('an oversized body → 413 PAYLOAD_TOO_LARGE', async () => {
      await expectNothingMoved([alice], async () => {
        expectError(await purchase({ service: 'tg', country: 'ID', padding: 'x'.repeat(100 * 1024) }), 413, 'PAYLOAD_TOO_LARGE');
      });
    });

    it('a malformed Idempotency-Key → 400 VALIDATION_ERROR naming the header', async () => {
      await expectNothingMoved([alice], async () => {
        for (const key of ['short', ' '.repeat(10), 'k'.repeat(201)]) {
          const error = expectError(await purchase({ service: 'tg', country: 'ID' }, { headers: { 'Idempotency-Key': key } }), 400, 'VALIDATION_ERROR');
          expect(error.message).toMatch(/Idempotency-Key/i);
        }
      });
    });
  });

  describe('actions on an activation', () => {
    it('cancel before the provider minimum → 409 CANCEL_TOO_EARLY with details.retryAfterSeconds', async () => {
      await expectNothingMoved([alice], async () => {
        const error = expectError(await system.request('POST', `/api/numbers/${idle.id}/cancel`, { token: alice.token }), 409, 'CANCEL_TOO_EARLY');
        expect(error.details.retryAfterSeconds).toBeGreaterThan(60);
        expect(error.details.retryAfterSeconds).toBeLessThanOrEqual(120);
      });
      expect((await upstreamNumbers()).find((n) => `+${n.phone}` === idle.phone)?.state).toBe('WAIT');
    });

    it.each(['retry', 'finish'])('%s before any SMS → 409 NO_SMS_YET', async (action) => {
      await expectNothingMoved([alice], async () => {
        expectError(await system.request('POST', `/api/numbers/${idle.id}/${action}`, { token: alice.token }), 409, 'NO_SMS_YET');
      });
    });

    it("another user's activation → 404 NOT_FOUND for GET and every action", async () => {
      await expectNothingMoved([alice, bob], async () => {
        expectError(await system.request('GET', `/api/numbers/${idle.id}`, { token: bob.token }), 404, 'NOT_FOUND');
        for (const action of ['cancel', 'retry', 'finish']) {
          expectError(await system.request('POST', `/api/numbers/${idle.id}/${action}`, { token: bob.token }), 404, 'NOT_FOUND');
        }
        // Indistinguishable from an id that does not exist.
        const missing = `act-${randomUUID().replace(/-/g, '')}`;
        const notMine = expectError(await system.request('GET', `/api/numbers/${idle.id}`, { token: bob.token }), 404, 'NOT_FOUND');
        const absent = expectError(await system.request('GET', `/api/numbers/${missing}`, { token: bob.token }), 404, 'NOT_FOUND');
        expect(notMine).toEqual(absent);
        expectError(await system.request('POST', `/api/numbers/${missing}/cancel`, { token: bob.token }), 404, 'NOT_FOUND');
      });
      const bobs = await system.request('GET', '/api/numbers', { token: bob.token });
      expect(bobs.body.activations).toEqual([]);
    });

    it.each(['123', 'act-XYZ', 'act-', `act-${'a'.repeat(41)}`, "act-1' OR '1'='1", '..%2f..%2fetc'])('bad activation id %p → 400 VALIDATION_ERROR', async (id) => {
      await expectNothingMoved([alice], async () => {
        expectError(await system.request('GET', `/api/numbers/${encodeURIComponent(id)}`, { token: alice.token }), 400, 'VALIDATION_ERROR');
        expectError(await system.request('POST', `/api/numbers/${encodeURIComponent(id)}/cancel`, { token: alice.token }), 400, 'VALIDATION_ERROR');
      });
    });

    it('cancel after an SMS → 409 SMS_ALREADY_RECEIVED', async () => {
      const bought = await purchase({ service: 'tg', country: 'GB' });
      expect(bought.status).toBe(201);
      const activation = bought.body.activation;
      const upstream = (await upstreamNumbers()).find((n) => `+${n.phone}` === activation.phone)!;
      await system.sim('POST', `/control/${tenantOf(activation.providerId)}/activations/${upstream.id}/sms`, { code: '5555' });
      // Wait until the code is stored and paid for, then nothing more may move.
      await waitFor(async () => {
        const hold = await system.container.db.hold.findUnique({ where: { key: activation.id } });
        return hold?.status === 'CAPTURED';
      });
      await expectNothingMoved([alice], async () => {
        expectError(await system.request('POST', `/api/numbers/${activation.id}/cancel`, { token: alice.token }), 409, 'SMS_ALREADY_RECEIVED');
      });
      expect((await upstreamNumbers()).find((n) => n.id === upstream.id)?.state).toBe('GOT_CODE');
    });
  });

  describe('authentication', () => {
    const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    function badTokens(): Record<string, string> {
      const { JWT_SECRET: secret, JWT_ISSUER: issuer, JWT_AUDIENCE: audience } = system.config.env;
      const [header, , signature] = alice.token.split('.');
      const claims = { email: alice.email, role: 'ADMIN' as const };
      return {
        'a tampered payload (role → ADMIN, signature kept)': `${header}.${b64({ ...payloadOf(alice.token), role: 'ADMIN' })}.${signature}`,
        'a tampered signature': `${alice.token.slice(0, -4)}${alice.token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
        'another secret': jwt.sign(claims, 'another-secret-another-secret-another-secret', { subject: alice.id, issuer, audience, expiresIn: 600 }),
        'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...payloadOf(alice.token), role: 'ADMIN' })}.`,
        'HS512 with the right secret': jwt.sign(claims, secret, { algorithm: 'HS512', subject: alice.id, issuer, audience, expiresIn: 600 }),
        'an expired token': jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, secret, { subject: alice.id, issuer, audience }),
        'another audience': jwt.sign(claims, secret, { subject: alice.id, issuer, audience: 'someone-else', expiresIn: 600 }),
        'another issuer': jwt.sign(claims, secret, { subject: alice.id, issuer: 'someone-else', audience, expiresIn: 600 }),
        'no subject': jwt.sign(claims, secret, { issuer, audience, expiresIn: 600 }),
        'an unknown role': jwt.sign({ ...claims, role: 'ROOT' }, secret, { subject: alice.id, issuer, audience, expiresIn: 600 }),
        'garbage': 'not-a-jwt',
      };
    }

    it('no token → 401 UNAUTHORIZED on every signed-in route', async () => {
      await expectNothingMoved([alice], async () => {
        for (const [method, path] of [
          ['GET', '/api/numbers'],
          ['POST', '/api/numbers'],
          ['GET', `/api/numbers/${idle.id}`],
          ['POST', `/api/numbers/${idle.id}/cancel`],
          ['GET', '/api/wallet'],
          ['GET', '/api/events'],
          ['POST', '/api/events/ticket'],
          ['GET', '/api/auth/me'],
          ['GET', '/api/admin/users'],
          ['POST', `/api/admin/wallets/${alice.id}/credit`],
        ]) {
          const body = method === 'POST' ? { service: 'tg', country: 'ID' } : undefined;
          expectError(await system.request(method, path, { body }), 401, 'UNAUTHORIZED');
        }
      });
    });

    it('a bad bearer token → 401 UNAUTHORIZED, never the user it claims to be', async () => {
      await expectNothingMoved([alice], async () => {
        for (const [name, token] of Object.entries(badTokens())) {
          for (const [method, path, body] of [
            ['GET', '/api/wallet', undefined],
            ['POST', '/api/numbers', { service: 'tg', country: 'ID' }],
            ['GET', '/api/admin/users', undefined],
            ['POST', `/api/admin/wallets/${alice.id}/credit`, { amountMicros: '1000000' }],
          ] as const) {
            const response = await system.request(method, path, { token, body, headers: { 'Idempotency-Key': `bad-token-${randomUUID()}` } });
            expect({ name, path, status: response.status }).toEqual({ name, path, status: 401 });
            expectError(response, 401, 'UNAUTHORIZED');
          }
        }
      });
      // The genuine token still works.
      expect((await system.request('GET', '/api/wallet', { token: alice.token })).status).toBe(200);
    });
  });

  describe('admin routes', () => {
    it('a customer on every /api/admin route → 403 FORBIDDEN', async () => {
      await expectNothingMoved([alice], async () => {
        for (const [method, path, body] of [
          ['GET', '/api/admin/users', undefined],
          ['GET', '/api/admin/users?q=customer', undefined],
          ['POST', `/api/admin/wallets/${alice.id}/credit`, { amountMicros: '1000000' }],
          ['GET', '/api/admin/activations', undefined],
          ['GET', `/api/admin/activations/${idle.id}`, undefined],
          ['POST', `/api/admin/activations/${idle.id}/cancel`, undefined],
          ['GET', '/api/admin/invariants', undefined],
          ['GET', '/api/admin/no-such-route', undefined],
        ] as const) {
          const response = await system.request(method, path, { token: alice.token, body, headers: { 'Idempotency-Key': `customer-${randomUUID()}` } });
          expect({ path, status: response.status }).toEqual({ path, status: 403 });
          expectError(response, 403, 'FORBIDDEN');
        }
      });
      expect((await system.request('GET', `/api/numbers/${idle.id}`, { token: alice.token })).body.activation.status).toBe('ACTIVE');
    });

    const credit = (userId: string, body: unknown, headers: Record<string, string> = { 'Idempotency-Key': `admin-${randomUUID()}` }) =>
      system.request('POST', `/api/admin/wallets/${userId}/credit`, { token: system.adminToken, body, headers });

    it('a credit without an Idempotency-Key → 400 naming the header', async () => {
      await expectNothingMoved([alice], async () => {
        const error = expectError(await credit(alice.id, { amountMicros: '1000000' }, {}), 400, 'VALIDATION_ERROR');
        expect(error.message).toMatch(/Idempotency-Key/i);
        expectError(await credit(alice.id, { amountMicros: '1000000' }, { 'Idempotency-Key': 'short' }), 400, 'VALIDATION_ERROR');
      });
    });

    it.each([
      ['0', { amountMicros: 0 }],
      ['"0"', { amountMicros: '0' }],
      ['"1.5"', { amountMicros: '1.5' }],
      ['1.5', { amountMicros: 1.5 }],
      ['-1', { amountMicros: -1 }],
      ['"-1"', { amountMicros: '-1' }],
      ['"abc"', { amountMicros: 'abc' }],
      ['16 digits', { amountMicros: '1'.repeat(16) }],
      ['missing', { memo: 'no amount' }],
      ['an unknown field', { amountMicros: '1000000', currency: 'EUR' }],
      ['an empty memo', { amountMicros: '1000000', memo: '   ' }],
    ])('a credit with amount %s → 400 VALIDATION_ERROR', async (_name, body) => {
      await expectNothingMoved([alice], async () => {
        expectError(await credit(alice.id, body), 400, 'VALIDATION_ERROR');
      });
    });

    it('a credit for a user that does not exist → 404, for a malformed user id → 400', async () => {
      await expectNothingMoved([alice], async () => {
        expectError(await credit(randomUUID(), { amountMicros: '1000000' }), 404, 'USER_NOT_FOUND');
        expectError(await credit('not-a-uuid', { amountMicros: '1000000' }), 400, 'VALIDATION_ERROR');
      });
    });
  });

  describe('accounts', () => {
    it('register with a taken e-mail → 409 EMAIL_TAKEN (case-insensitively)', async () => {
      for (const email of [alice.email, alice.email.toUpperCase()]) {
        expectError(await system.request('POST', '/api/auth/register', { body: { email, password: 'another-password' } }), 409, 'EMAIL_TAKEN');
      }
      // The original password still signs in.
      expect((await system.request('POST', '/api/auth/login', { body: { email: alice.email, password: 'customer-password' } })).status).toBe(200);
    });

    it('login with a wrong password or an unknown e-mail → 401 INVALID_CREDENTIALS, same message', async () => {
      const wrong = expectError(await system.request('POST', '/api/auth/login', { body: { email: alice.email, password: 'not-the-password' } }), 401, 'INVALID_CREDENTIALS');
      const unknown = expectError(
        await system.request('POST', '/api/auth/login', { body: { email: `nobody-${randomUUID()}@simgate.test`, password: 'customer-password' } }),
        401,
        'INVALID_CREDENTIALS',
      );
      expect(wrong).toEqual(unknown);
    });

    it.each([
      ['a malformed e-mail', { email: 'not-an-email', password: 'long-enough-password' }],
      ['a short password', { email: `x-${randomUUID()}@simgate.test`, password: 'short' }],
      ['a missing password', { email: `x-${randomUUID()}@simgate.test` }],
    ])('register with %s → 400 VALIDATION_ERROR', async (_name, body) => {
      expectError(await system.request('POST', '/api/auth/register', { body }), 400, 'VALIDATION_ERROR');
    });
  });

  describe('provider webhook', () => {
    it('a wrong or missing secret → 401 WEBHOOK_UNAUTHORIZED and the SMS is not taken', async () => {
      const upstream = (await upstreamNumbers()).find((n) => `+${n.phone}` === idle.phone)!;
      const body = { activationId: upstream.id, service: 'wa', text: 'Your code: 999999', code: '999999', receivedAt: '2026-01-01 10:00:00' };
      await expectNothingMoved([alice], async () => {
        for (const query of ['?secret=wrong-secret', '', `?secret=${system.config.env.PROVIDER_WEBHOOK_SECRET}x`]) {
          expectError(await system.request('POST', `/webhooks/providers/${idle.providerId}${query}`, { body }), 401, 'WEBHOOK_UNAUTHORIZED');
        }
        expectError(
          await system.request('POST', `/webhooks/providers/${idle.providerId}`, { body, headers: { 'X-Webhook-Secret': 'wrong-secret' } }),
          401,
          'WEBHOOK_UNAUTHORIZED',
        );
      });
      const current = await system.request('GET', `/api/numbers/${idle.id}`, { token: alice.token });
      expect(current.body.activation.messages).toEqual([]);
    });
  });

  describe('invalid text and out-of-range integers (src/lib/text.ts)', () => {
    const admin = (method: string, path: string, body?: unknown) =>
      system.request(method, path, { token: system.adminToken, body, headers: { 'Idempotency-Key': `admin-${randomUUID()}` } });

    it.each([
      ['9223372036854775808', '2^63'],
      ['-9223372036854775809', '-2^63 - 1'],
      ['99999999999999999999999', 'far beyond'],
    ])('a bigint cursor or id of %s (%s) → 400 VALIDATION_ERROR naming it', async (value) => {
      await expectNothingMoved([alice], async () => {
        const wallet = expectError(await system.request('GET', `/api/wallet?before=${value}`, { token: alice.token }), 400, 'VALIDATION_ERROR');
        expect(wallet.details.issues.map((i: { path: string }) => i.path)).toEqual(['before']);
        expectError(await admin('GET', `/api/admin/audit?before=${value}`), 400, 'VALIDATION_ERROR');
        expectError(await admin('POST', `/api/admin/incidents/${value}/resolve`), 400, 'VALIDATION_ERROR');
      });
    });

    it("bigint cursors at PostgreSQL's bounds are still answered", async () => {
      for (const value of ['9223372036854775807', '-9223372036854775808']) {
        expect((await system.request('GET', `/api/wallet?before=${value}`, { token: alice.token })).status).toBe(200);
        expect((await admin('GET', `/api/admin/audit?before=${value}`)).status).toBe(200);
        expectError(await admin('POST', `/api/admin/incidents/${value}/resolve`), 404, 'INCIDENT_NOT_FOUND');
      }
    });

    it('a provider setting beyond PostgreSQL int → 400 VALIDATION_ERROR', async () => {
      const error = expectError(await admin('PATCH', `/api/admin/providers/${idle.providerId}`, { requestTimeoutMs: 2 ** 31 }), 400, 'VALIDATION_ERROR');
      expect(error.details.issues.map((i: { path: string }) => i.path)).toEqual(['requestTimeoutMs']);
    });

    /** What INVALID_TEXT says: where, never the text itself. */
    function expectInvalidText(response: Response, where: { in: string; path?: string }) {
      const error = expectError(response, 400, 'INVALID_TEXT');
      expect(error.details).toEqual(where);
      expect(error.message).not.toMatch(/\u0000/);
      return error;
    }

    it('POST /api/keys with a NUL, a control or a lone surrogate in the name → 400 INVALID_TEXT, no key created', async () => {
      const keysBefore = (await system.request('GET', '/api/keys', { token: alice.token })).body.apiKeys.length;
      for (const name of ['a\u0000b', 'bell\u0007', 'esc\u001B[0m']) {
        expectInvalidText(await system.request('POST', '/api/keys', { token: alice.token, body: { name, scopes: ['read'] } }), { in: 'body', path: 'name' });
      }
      // JSON.stringify writes a lone surrogate as the escape `\ud800`, which JSON.parse turns back into one.
      const lone = await system.request('POST', '/api/keys', { token: alice.token, body: '{"name":"half \\ud83d","scopes":["read"]}' });
      expectInvalidText(lone, { in: 'body', path: 'name' });
      // In a key, in a list, in a field no schema reads: found all the same.
      expectInvalidText(await system.request('POST', '/api/keys', { token: alice.token, body: { name: 'ok', scopes: ['read\u0000'] } }), { in: 'body', path: 'scopes.0' });
      expectInvalidText(await system.request('POST', '/api/keys', { token: alice.token, body: { name: 'ok', scopes: ['read'], ['x\u0000']: 1 } }), { in: 'body', path: 'x\\u0000' });
      expect((await system.request('GET', '/api/keys', { token: alice.token })).body.apiKeys).toHaveLength(keysBefore);
    });

    it('tab, newline and non-Latin text are valid text', async () => {
      const created = await system.request('POST', '/api/keys', { token: alice.token, body: { name: 'ключ\tone\nline two 🔑', scopes: ['read'] } });
      expect(created.status).toBe(201);
      expect(created.body.apiKey.name).toBe('ключ\tone\nline two 🔑');
      expect((await system.request('DELETE', `/api/keys/${created.body.apiKey.id}`, { token: alice.token })).status).toBe(200);
    });

    it('PUT /api/v1/webhook with a NUL in the URL → 400 INVALID_TEXT, the webhook unchanged', async () => {
      const partner = await createKey(system, alice.token, ['read', 'purchase'], 'text rule partner');
      for (const url of ['https://hooks.example/a\u0000b', 'https://hooks.example/\u0000']) {
        expectInvalidText(await partnerCall(system, partner, 'PUT', '/api/v1/webhook', { sign: true, body: { url } }), { in: 'body', path: 'url' });
      }
      expect((await partnerCall(system, partner, 'GET', '/api/v1/webhook')).body.webhook).toBeNull();
    });

    it('admin searches and filters with %00 → 400 INVALID_TEXT naming the parameter', async () => {
      expectInvalidText(await admin('GET', '/api/admin/users?q=%00'), { in: 'query', path: 'q' });
      expectInvalidText(await admin('GET', '/api/admin/audit?targetId=a%00b'), { in: 'query', path: 'targetId' });
      expectInvalidText(await admin('GET', '/api/catalog/search?q=tele%01gram'), { in: 'query', path: 'q' });
      expectInvalidText(await admin('GET', '/api/admin/users?q=ok&q=%00'), { in: 'query', path: 'q.1' });
      // The same searches with valid text still answer.
      expect((await admin('GET', '/api/admin/users?q=customer')).status).toBe(200);
      expect((await admin('GET', '/api/admin/audit?targetId=ab')).status).toBe(200);
    });

    it('a credit memo with a NUL → 400 INVALID_TEXT, no money moved', async () => {
      await expectNothingMoved([alice], async () => {
        const response = await system.request('POST', `/api/admin/wallets/${alice.id}/credit`, {
          token: system.adminToken,
          headers: { 'Idempotency-Key': `admin-${randomUUID()}` },
          body: { amountMicros: '1000000', memo: 'refund\u0000' },
        });
        expectInvalidText(response, { in: 'body', path: 'memo' });
      });
    });

    it('a NUL in a path segment → 400 INVALID_TEXT before any route runs', async () => {
      await expectNothingMoved([alice], async () => {
        expectInvalidText(await system.request('GET', '/api/numbers/act-%00', { token: alice.token }), { in: 'path' });
        expectInvalidText(await system.request('POST', `/api/admin/activations/${idle.id}%00/cancel`, { token: system.adminToken }), { in: 'path' });
        expectInvalidText(await admin('PATCH', '/api/admin/providers/a%00b', { enabled: true }), { in: 'path' });
      });
    });

    it('invalid text in a purchase body → 400 INVALID_TEXT, nothing bought', async () => {
      await expectNothingMoved([alice], async () => {
        expectInvalidText(await purchase({ service: 'wa\u0000', country: 'ID' }), { in: 'body', path: 'service' });
      });
    });
  });

  describe('an SMS with U+0000 found by polling the provider', () => {
    it('is stored cleaned, paid for and finished — no retry loop', async () => {
      const customer = await system.customer(5_000_000n);
      const bought = await purchase({ service: 'tg', country: 'GB' }, { token: customer.token });
      expect(bought.status).toBe(201);
      const activation = bought.body.activation;
      const upstream = (await upstreamNumbers()).find((n) => `+${n.phone}` === activation.phone)!;
      // The simulator sends what it is given: the code goes out raw in the getStatus token (STATUS_OK:12<NUL>34).
      await system.sim('POST', `/control/${tenantOf(activation.providerId)}/activations/${upstream.id}/sms`, { code: '12\u000034', text: 'Your code:\u0000 1234' });

      const stored = await waitFor(async () => {
        const messages = await system.container.db.smsMessage.findMany({ where: { activationId: activation.id } });
        return messages.length > 0 ? messages : null;
      });
      expect(stored.map((m) => ({ code: m.code, text: m.text }))).toEqual([{ code: '1234', text: '1234' }]);
      await waitFor(async () => (await system.container.db.hold.findUnique({ where: { key: activation.id } }))?.status === 'CAPTURED');

      const finished = await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
      expect({ status: finished.status, activation: finished.body.activation?.status }).toEqual({ status: 200, activation: 'COMPLETED' });
      expect(finished.body.activation.messages.map((m: { code: string; text: string }) => [m.code, m.text])).toEqual([['1234', '1234']]);
      const row = await system.container.db.activation.findUniqueOrThrow({ where: { id: activation.id } });
      expect(row.status).toBe('COMPLETED');
      const wallet = await system.container.db.wallet.findUniqueOrThrow({ where: { userId: customer.id } });
      expect({ available: wallet.available, held: wallet.held }).toEqual({ available: 5_000_000n - BigInt(activation.priceMicros), held: 0n });
      expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
    });
  });

  it('an unknown API route → 404 ROUTE_NOT_FOUND', async () => {
    expectError(await system.request('GET', '/api/nope', { token: alice.token }), 404, 'ROUTE_NOT_FOUND');
    expectError(await system.request('DELETE', '/api/numbers', { token: alice.token }), 404, 'ROUTE_NOT_FOUND');
  });
});

describe('an SMS with U+0000 delivered by the provider webhook', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startWebhookSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  const tenantOf = (providerId: string) => Object.entries(TENANT_PROVIDER).find(([, id]) => id === providerId)![0];

  async function buy(customer: { token: string }) {
    const bought = await system.request('POST', '/api/numbers', { token: customer.token, headers: { 'Idempotency-Key': `nul-${randomUUID()}` }, body: { service: 'wa', country: 'ID' } });
    expect(bought.status).toBe(201);
    const activation = bought.body.activation as { id: string; providerId: string; phone: string; priceMicros: string };
    const { activations } = await system.sim('GET', `/control/${tenantOf(activation.providerId)}/activations`);
    const upstream = activations.find((a: { phone: string }) => `+${a.phone}` === activation.phone) as { id: number };
    return { activation, upstream };
  }

  const storedMessages = (activationId: string) =>
    waitFor(async () => {
      const messages = await system.container.db.smsMessage.findMany({ where: { activationId }, select: { code: true, text: true } });
      return messages.length > 0 ? messages : null;
    });

  it('is stored cleaned, paid for and finished; a late copy becomes a clean incident', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation, upstream } = await buy(customer);
    // The simulator posts this text and code to our webhook as JSON, the NULs escaped as \u0000.
    await system.sim('POST', `/control/${tenantOf(activation.providerId)}/activations/${upstream.id}/sms`, { code: '43\u000021', text: 'Your code:\u0000 4321\u0007' });

    expect(await storedMessages(activation.id)).toEqual([{ code: '4321', text: 'Your code: 4321' }]);
    await waitFor(async () => (await system.container.db.hold.findUnique({ where: { key: activation.id } }))?.status === 'CAPTURED');

    const finished = await system.request('POST', `/api/numbers/${activation.id}/finish`, { token: customer.token });
    expect({ status: finished.status, activation: finished.body.activation?.status }).toEqual({ status: 200, activation: 'COMPLETED' });
    const wallet = await system.container.db.wallet.findUniqueOrThrow({ where: { userId: customer.id } });
    expect({ available: wallet.available, held: wallet.held }).toEqual({ available: 5_000_000n - BigInt(activation.priceMicros), held: 0n });
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);

    // The provider sends another SMS after the end: kept for an admin, cleaned (jsonb refuses \u0000 too).
    const late = await system.request('POST', `/webhooks/providers/${activation.providerId}?secret=${system.config.env.PROVIDER_WEBHOOK_SECRET}`, {
      body: { activationId: upstream.id, service: 'wa', text: 'Again:\u0000 5678', code: '56\u000078' },
    });
    expect({ status: late.status, body: late.body }).toEqual({ status: 200, body: { ok: true, matched: true, late: true } });
    const incident = await system.container.db.upstreamIncident.findFirstOrThrow({ where: { providerId: activation.providerId, upstreamId: String(upstream.id) } });
    expect((incident.details as { messages: { code: string; text: string }[] }).messages.map((m) => [m.code, m.text])).toEqual([['5678', 'Again: 5678']]);
  });

  it('a code of nothing but NUL is no code: the text is kept and the SMS paid for', async () => {
    const customer = await system.customer(5_000_000n);
    const { activation, upstream } = await buy(customer);
    const delivered = await system.request('POST', `/webhooks/providers/${activation.providerId}?secret=${system.config.env.PROVIDER_WEBHOOK_SECRET}`, {
      body: { activationId: upstream.id, service: 'wa', text: 'Your code is 2468\u0000', code: '\u0000' },
    });
    expect({ status: delivered.status, body: delivered.body }).toEqual({ status: 200, body: { ok: true, matched: true } });
    expect(await storedMessages(activation.id)).toEqual([{ code: null, text: 'Your code is 2468' }]);
    await waitFor(async () => (await system.container.db.hold.findUnique({ where: { key: activation.id } }))?.status === 'CAPTURED');
    expect(await system.container.wallet.checkInvariants(customer.id)).toEqual([]);
  });
});

import { Writable } from 'node:stream';
import { startSystem, type TestSystem } from '../../support/system';
import { login, register } from './helpers';

/**
 * Every secret a run uses — in query strings, headers, cookies and bodies, on paths that fail
 * with 4xx and 5xx — is looked for in everything the system logged at debug level. None may be there.
 */
describe('no secret or token in any log line', () => {
  let system: TestSystem;
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });

  beforeAll(async () => {
    system = await startSystem({ logDestination: destination, env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('logs the failures of requests that carry secrets, without any of the secrets', async () => {
    const { env } = system.config;
    const customer = await register(system);
    const key = await system.request('POST', '/api/keys', { token: customer.token, body: { name: 'bot', scopes: ['read', 'purchase'] } });
    expect(key.status).toBe(201);
    const apiKey = key.body.key as string;
    const signingSecret = key.body.signingSecret as string;
    const refreshCookie = customer.jar.get('sg.refresh')!;
    const secrets: Record<string, string> = {
      JWT_SECRET: env.JWT_SECRET,
      PROVIDER_WEBHOOK_SECRET: env.PROVIDER_WEBHOOK_SECRET,
      adminToken: system.adminToken,
      customerToken: customer.token,
      customerPassword: customer.password,
      refreshCookie,
      csrfToken: customer.csrfToken,
      apiKey,
      signingSecret,
      ...Object.fromEntries(system.config.providers.map((p) => [`apiKey of ${p.id}`, p.apiKey])),
    };
    const query = `access_token=${encodeURIComponent(system.adminToken)}&secret=${encodeURIComponent(env.PROVIDER_WEBHOOK_SECRET)}&api_key=${encodeURIComponent(apiKey)}`;
    const everyHeader = { 'x-api-key': apiKey, 'x-webhook-secret': env.PROVIDER_WEBHOOK_SECRET, cookie: customer.jar.header(), 'x-csrf-token': customer.csrfToken };

    // 5xx: the upstream answers 500 to everything while an admin asks for a price sync.
    await system.sim('POST', '/control/hero/faults', { times: 100, reply: { status: 500, body: `internal error, key ${secrets['apiKey of hero-sim']}` } });
    const sync = await system.request('POST', `/api/admin/providers/hero-sim/sync?${query}`, { token: system.adminToken, headers: everyHeader });
    expect(sync.status).toBeGreaterThanOrEqual(500);
    const requestId = sync.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await system.sim('DELETE', '/control/hero/faults');

    // 4xx on the webhook (bad body, wrong secret), then a good one for an unknown activation (logged as a warning).
    expect((await system.request('POST', `/webhooks/providers/hero-sim?${query}`, { body: { nope: true } })).status).toBeGreaterThanOrEqual(400);
    expect((await system.request('POST', '/webhooks/providers/hero-sim?secret=wrong', { body: { activationId: 1, code: '1' }, headers: { ...everyHeader, 'x-webhook-secret': 'wrong' } })).status).toBe(401);
    expect((await system.request('POST', `/webhooks/providers/hero-sim?${query}`, { body: { activationId: 999_999_999_999, code: '12345' } })).status).toBe(200);

    // Sign-in with the wrong and the right password; bearer routes given a token in the URL; the SSE stream.
    expect((await login(system, customer.email, 'not-the-password')).response.status).toBe(401);
    expect((await login(system, customer.email, customer.password)).response.status).toBe(200);
    expect((await system.request('GET', `/api/wallet?${query}`, { headers: everyHeader })).status).toBe(401);
    expect((await system.request('GET', `/api/nowhere?${query}`, { token: customer.token, headers: everyHeader })).status).toBe(404);
    expect((await system.request('POST', `/api/auth/login?${query}`, { body: `{"email":"${customer.email}","password":"${customer.password}"`, headers: everyHeader })).status).toBe(400);
    const ticket = await system.request('POST', '/api/events/ticket', { token: customer.token });
    expect(ticket.status).toBe(201);
    secrets.streamTicket = ticket.body.ticket as string;
    const stream = new AbortController();
    const events = await fetch(`${system.api.url}/api/events?ticket=${secrets.streamTicket}&${query}`, { signal: stream.signal });
    expect(events.status).toBe(200);
    stream.abort();
    // A spent ticket, refused: the failure is logged without it.
    expect((await fetch(`${system.api.url}/api/events?ticket=${secrets.streamTicket}`)).status).toBe(401);
    // A partner call with its key in the header, and a purchase that fails upstream.
    expect((await system.request('GET', `/api/v1/balance?${query}`, { headers: everyHeader })).status).toBe(200);
    // The SMS-Activate protocol carries the key in the URL or a form: its calls (a good one, a refusal, a broken body) log no key.
    expect((await system.request('GET', `/stubs/handler_api.php?action=getBalance&${query}`)).body).toMatch(/^ACCESS_BALANCE:/);
    expect((await system.request('GET', `/stubs/handler_api.php?action=getStatus&id=1&${query}`)).body).toBe('NO_ACTIVATION');
    expect((await system.request('POST', '/stubs/handler_api.php', { body: `action=getNumber&service=nope&${query}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).body).toBe('BAD_SERVICE');
    expect((await system.request('POST', `/stubs/handler_api.php?action=getBalance&${query}`, { body: '{"broken": ', headers: { 'content-type': 'application/json' } })).body).toMatch(/^ACCESS_BALANCE:/);

    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = lines.join('');
    // The failure's log line names the request id the caller was given.
    const failure = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request failed');
    expect(failure).toMatchObject({ requestId, path: '/api/admin/providers/hero-sim/sync' });
    // A caller's own request id is kept.
    expect((await system.request('GET', '/healthz', { headers: { 'x-request-id': 'lb-7f3a9c2e' } })).headers.get('x-request-id')).toBe('lb-7f3a9c2e');
    expect(log).toContain('/api/admin/providers/hero-sim/sync');
    const leaked = Object.entries(secrets).filter(([, value]) => log.includes(value) || log.includes(encodeURIComponent(value)));
    expect(leaked.map(([name]) => name)).toEqual([]);
  });
});

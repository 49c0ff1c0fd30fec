import { randomBytes, randomUUID } from 'node:crypto';
import type { ActivationDto } from '../../../src/activations/read-model';
import { startSystem, type TestSystem } from '../../support/system';
import { cookiePost, register, type BrowserSession } from './helpers';

const TTL_SECONDS = 2;

/**
 * The SSE stream takes no access token in its URL: a browser asks `POST /api/events/ticket` (with
 * its bearer token) for a one-use ticket that lives a few seconds in Redis, and opens
 * `GET /api/events?ticket=`. A ticket works once, expires, names its owner only on the server,
 * and dies with the session.
 */
describe('one-use SSE stream tickets', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ env: { STREAM_TICKET_TTL_SECONDS: String(TTL_SECONDS) } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const ticketFor = async (session: { token: string }) => {
    const response = await system.request('POST', '/api/events/ticket', { token: session.token });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body.expiresIn).toBe(TTL_SECONDS);
    return response.body.ticket as string;
  };

  /** Opens the stream; the caller aborts `controller` when done. */
  const open = async (query: string, controller = new AbortController()) => {
    const response = await fetch(`${system.api.url}/api/events?${query}`, { signal: controller.signal });
    return { response, controller };
  };

  /** Reads frames until `until` matches the text so far, or the time runs out. */
  const readers = new WeakMap<Response, ReadableStreamDefaultReader<Uint8Array>>();
  const readUntil = async (response: Response, until: RegExp, ms = 5000): Promise<string> => {
    const reader = readers.get(response) ?? response.body!.getReader();
    readers.set(response, reader);
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + ms;
    while (!until.test(text) && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), deadline - Date.now())))]);
      clearTimeout(timer);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  };

  const viewOf = (userId: string, id: string) => ({ id, userId, status: 'ACTIVE' }) as unknown as ActivationDto;

  it('opens the stream once: the same ticket again is refused', async () => {
    const session = await register(system);
    const ticket = await ticketFor(session);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const first = await open(`ticket=${ticket}`);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const again = await open(`ticket=${ticket}`);
    expect(again.response.status).toBe(401);
    expect(((await again.response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    first.controller.abort();
  });

  it('refuses a ticket used concurrently twice: exactly one connection gets it', async () => {
    const session = await register(system);
    const ticket = await ticketFor(session);
    const attempts = await Promise.all(Array.from({ length: 5 }, () => open(`ticket=${ticket}`)));
    expect(attempts.map((a) => a.response.status).sort()).toEqual([200, 401, 401, 401, 401]);
    for (const attempt of attempts) attempt.controller.abort();
  });

  it('refuses an expired ticket, and keeps it under the prefix with the configured TTL meanwhile', async () => {
    const session = await register(system);
    const ticket = await ticketFor(session);
    const keys = await system.container.redis.keys(`${system.config.redisPrefix}:sse-ticket:*`);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key.startsWith(`${system.config.redisPrefix}:`)).toBe(true);
      // Stored by hash: the ticket itself is in no key and no value.
      expect(key).not.toContain(ticket);
      expect(await system.container.redis.get(key)).not.toContain(ticket);
      expect(await system.container.redis.ttl(key)).toBeLessThanOrEqual(TTL_SECONDS);
    }
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 500));
    expect((await open(`ticket=${ticket}`)).response.status).toBe(401);
  });

  it('cannot be forged or borrowed: a made-up ticket, a user id or an access token are refused; a ticket streams only its owner\'s events', async () => {
    const alice = await register(system);
    const bob = await register(system);
    for (const forged of [randomBytes(32).toString('base64url'), alice.user.id, alice.token, '', 'x'.repeat(5000)]) {
      const attempt = await open(`ticket=${encodeURIComponent(forged)}`);
      expect(attempt.response.status).toBe(401);
    }
    expect((await open(`ticket=a&ticket=b`)).response.status).toBe(401);

    // Alice's ticket opens Alice's stream: Bob's activation events never reach it.
    const stream = await open(`ticket=${await ticketFor(alice)}`);
    expect(stream.response.status).toBe(200);
    const bobsId = randomUUID();
    const alicesId = randomUUID();
    await readUntil(stream.response, /retry:/);
    await system.container.events.publish({ userId: bob.user.id, activationId: bobsId, activation: viewOf(bob.user.id, bobsId) });
    await system.container.events.publish({ userId: alice.user.id, activationId: alicesId, activation: viewOf(alice.user.id, alicesId) });
    const frames = await readUntil(stream.response, new RegExp(alicesId));
    expect(frames).toContain(alicesId);
    expect(frames).not.toContain(bobsId);
    stream.controller.abort();
  });

  it('dies with the session: a ticket issued before logout is refused after it', async () => {
    const session: BrowserSession = await register(system);
    const ticket = await ticketFor(session);
    expect((await cookiePost(system, '/api/auth/logout', session)).status).toBe(204);
    expect((await open(`ticket=${ticket}`)).response.status).toBe(401);
  });

  it('never takes an access token from the URL, on the stream or any other route', async () => {
    const session = await register(system);
    expect((await open(`access_token=${session.token}`)).response.status).toBe(401);
    expect((await fetch(`${system.api.url}/api/wallet?access_token=${session.token}`)).status).toBe(401);
    // A ticket is only for the bearer: no ticket without one.
    expect((await system.request('POST', '/api/events/ticket')).status).toBe(401);
    // Clients that can send headers may still use the bearer header on the stream.
    const controller = new AbortController();
    const bearer = await fetch(`${system.api.url}/api/events`, { headers: { authorization: `Bearer ${session.token}` }, signal: controller.signal });
    expect(bearer.status).toBe(200);
    controller.abort();
  });
});

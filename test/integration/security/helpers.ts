import { randomUUID } from 'node:crypto';
import { signRequest } from '../../../src/auth/signing';
import type { TestSystem } from '../../support/system';

/** Cookies as a browser would keep them for /api/auth (tests send them by hand: fetch has no jar). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = decodeURIComponent(pair.slice(eq + 1).trim());
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) <= Date.now()) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
  }

  get(nameSuffix: string): string | undefined {
    for (const [name, value] of this.cookies) if (name.endsWith(nameSuffix)) return value;
    return undefined;
  }
}

export interface BrowserSession {
  email: string;
  password: string;
  user: { id: string; email: string; role: string };
  token: string;
  csrfToken: string;
  jar: CookieJar;
}

export const PASSWORD = 'customer-password';

export async function register(system: TestSystem, email = `sec-${randomUUID()}@simgate.test`, password = PASSWORD): Promise<BrowserSession> {
  const jar = new CookieJar();
  const response = await system.request('POST', '/api/auth/register', { body: { email, password } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  jar.store(response.headers);
  return { email, password, user: response.body.user, token: response.body.token, csrfToken: response.body.csrfToken, jar };
}

export async function login(system: TestSystem, email: string, password = PASSWORD, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const jar = new CookieJar();
  const response = await system.request('POST', '/api/auth/login', { body: { email, password, ...extra }, headers });
  jar.store(response.headers);
  return { response, jar };
}

/** POST with the session's cookies (and, unless told otherwise, its CSRF token). */
export async function cookiePost(system: TestSystem, path: string, session: { jar: CookieJar; csrfToken?: string }, options: { csrf?: string | null } = {}) {
  const headers: Record<string, string> = { cookie: session.jar.header() };
  const csrf = options.csrf === undefined ? session.csrfToken : options.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  const response = await system.request('POST', path, { headers });
  session.jar.store(response.headers);
  return response;
}

export async function latestMail(system: TestSystem, to: string) {
  return system.container.db.mailMessage.findFirst({ where: { to: to.toLowerCase() }, orderBy: { id: 'desc' } });
}

export function tokenFromMail(text: string): string {
  const match = /token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match) throw new Error(`no token in mail: ${text}`);
  return match[1];
}

export interface PartnerKey {
  key: string;
  signingSecret: string;
  id: string;
}

export async function createKey(system: TestSystem, token: string, scopes: string[], name = 'test key'): Promise<PartnerKey> {
  const response = await system.request('POST', '/api/keys', { token, body: { name, scopes } });
  if (response.status !== 201) throw new Error(`key creation failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { key: response.body.key, signingSecret: response.body.signingSecret, id: response.body.apiKey.id };
}

/** A partner call: API key in X-Api-Key, optionally signed (docs/partners.md). */
export async function partnerCall(
  system: TestSystem,
  partner: PartnerKey,
  method: string,
  path: string,
  options: { body?: unknown; sign?: boolean; timestamp?: number; nonce?: string; headers?: Record<string, string>; tamper?: (h: Record<string, string>) => void } = {},
) {
  const body = options.body === undefined ? '' : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'x-api-key': partner.key, ...options.headers };
  if (options.sign) {
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = options.nonce ?? randomUUID();
    headers['x-signature-timestamp'] = timestamp;
    headers['x-signature-nonce'] = nonce;
    headers['x-signature'] = signRequest(partner.signingSecret, { method, path, timestamp, nonce, body });
  }
  options.tamper?.(headers);
  return system.request(method, path, { headers, body: body === '' ? undefined : body });
}

/**
 * The one HTTP client both apps use. JSON in, JSON out; API errors become ApiError with the
 * server's stable `code`.
 *
 * Sessions (docs/auth.md): a short-lived access token (Bearer) plus an httpOnly refresh cookie and
 * a CSRF token. When the access token has expired — known from its `exp`, or from a 401 — the
 * client calls `POST /api/auth/refresh` with `X-CSRF-Token` once (concurrent callers share that
 * one call) and retries the request once with the new token; only when the refresh is refused
 * does the app hear "unauthorized" and go back to sign-in. So an expired token costs a
 * round trip, never a visible hiccup.
 */
import { ApiError, tokenExpiresAt } from './errors';
import type { AuthResponse, User } from './types';

export { ApiError, describeError, isOutcomeUnknown, isSessionEnded, MESSAGES } from './errors';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Whether a refreshed session may be kept (the admin panel refuses a non-admin account). */
  acceptUser?: (user: User) => boolean;
}

/** Refresh this long before the token's `exp`, so a request never leaves with a token about to die. */
const EXPIRY_MARGIN_MS = 15_000;

/** Expired, or about to: a token without a readable `exp` is left for the server to judge. */
const isExpired = (token: string) => {
  const expiresAt = tokenExpiresAt(token);
  return expiresAt != null && expiresAt - EXPIRY_MARGIN_MS <= Date.now();
};

/** Routes that answer 401 for reasons other than an expired access token. */
const isAuthFlow = (path: string) => /^\/auth\/(login|register|refresh|logout|csrf|password|email\/verify)/.test(path);

export class ApiClient {
  private readonly unauthorizedListeners = new Set<() => void>();
  private readonly sessionListeners = new Set<() => void>();
  private refreshing: Promise<boolean> | null = null;
  private user: User | null = null;

  /** @param tokenKey localStorage key: the web and admin apps keep separate sessions. */
  constructor(
    private readonly tokenKey: string,
    private readonly options: ClientOptions = {},
  ) {}

  private read(key: string): string | null {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  }

  private write(key: string, value: string | null): void {
    try {
      if (value) localStorage.setItem(key, value);
      else localStorage.removeItem(key);
    } catch {
      // Private mode without storage: the session simply does not survive a reload.
    }
  }

  get token(): string | null {
    return this.read(this.tokenKey);
  }

  get csrfToken(): string | null {
    return this.read(`${this.tokenKey}.csrf`);
  }

  /** A sign-in session may still exist: an access token, or the CSRF token of a refresh cookie. */
  get hasSession(): boolean {
    return this.token != null || this.csrfToken != null;
  }

  /** The user the last sign-in or refresh named. */
  get currentUser(): User | null {
    return this.user;
  }

  /** Keeps what register, login and refresh return. */
  startSession(session: Pick<AuthResponse, 'token' | 'user'> & { csrfToken?: string | null }): void {
    this.write(this.tokenKey, session.token);
    if (session.csrfToken) this.write(`${this.tokenKey}.csrf`, session.csrfToken);
    this.user = session.user;
    for (const listener of this.sessionListeners) listener();
  }

  /** Forgets the session locally (tokens and user). */
  endSession(): void {
    this.write(this.tokenKey, null);
    this.write(`${this.tokenKey}.csrf`, null);
    this.user = null;
  }

  /** Revokes the refresh cookie on the server (best effort) and forgets the session. */
  async signOut(): Promise<void> {
    const csrf = this.csrfToken;
    this.endSession();
    if (!csrf) return;
    try {
      await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } });
    } catch {
      // Offline: the access token dies within minutes anyway and the cookie with the next refresh.
    }
  }

  /** Called when the session ended for good (refresh refused). Returns an unsubscribe function. */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  /** Called after every new access token (sign-in or refresh). */
  onSession(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /**
   * A usable access token: the stored one unless it has expired, else a refreshed one; null when
   * signed out. Throws ApiError('UNAUTHORIZED') when the refresh is refused (the app is told),
   * ApiError('NETWORK') when the server cannot be reached.
   */
  async freshToken(): Promise<string | null> {
    const token = this.token;
    if (token && !isExpired(token)) return token;
    if (!this.hasSession) return null;
    if (!(await this.refresh(token))) throw this.sessionEnded();
    return this.token;
  }

  /** URL of the Server-Sent Events stream (EventSource cannot send headers, so the token rides in the query). */
  async eventsUrl(): Promise<string | null> {
    const token = await this.freshToken();
    return token ? `/api/events?access_token=${encodeURIComponent(token)}` : null;
  }

  /**
   * Trades the refresh cookie for a new access token. One call at a time: concurrent callers in
   * this tab share it, and other tabs of the app wait on a Web Lock and then reuse the token the
   * first one got (a refresh token works once: a second refresh with it would look like a stolen
   * token and sign the whole session out). Resolves false when the server refuses (the session is
   * over), rejects on network errors.
   *
   * @param stale the access token that was found expired or refused
   */
  refresh(stale: string | null = this.token): Promise<boolean> {
    this.refreshing ??= this.lockedRefresh(stale).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private lockedRefresh(stale: string | null): Promise<boolean> {
    const run = async () => {
      // Another tab refreshed while we waited: its token is in storage already.
      const current = this.token;
      if (current && current !== stale && !isExpired(current)) return true;
      return this.doRefresh();
    };
    const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
    return locks ? locks.request(`${this.tokenKey}.refresh`, run) : run();
  }

  private async doRefresh(): Promise<boolean> {
    const attempt = async (csrf: string) => {
      const response = await fetch('/api/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-CSRF-Token': csrf },
      });
      const data = (await response.json().catch(() => null)) as (AuthResponse & { csrfToken?: string }) | { error?: { code?: string } } | null;
      return { response, data };
    };
    try {
      let csrf = this.csrfToken ?? (await this.fetchCsrf());
      let { response, data } = await attempt(csrf);
      // The CSRF cookie may be gone (cookies cleared, another app on this origin signed in): get a fresh pair once.
      if (response.status === 403) {
        csrf = await this.fetchCsrf();
        ({ response, data } = await attempt(csrf));
      }
      if (response.status >= 500) throw new ApiError('INTERNAL', response.status, 'The session could not be renewed.');
      if (!response.ok || !data || !('token' in data)) return false;
      if (this.options.acceptUser && !this.options.acceptUser(data.user)) return false;
      this.startSession({ token: data.token, user: data.user, csrfToken: data.csrfToken ?? csrf });
      return true;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError('NETWORK', 0, 'The server could not be reached.');
    }
  }

  private async fetchCsrf(): Promise<string> {
    const response = await fetch('/api/auth/csrf', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const data = (await response.json().catch(() => null)) as { csrfToken?: string } | null;
    if (!data?.csrfToken) throw new ApiError(`HTTP_${response.status}`, response.status, 'No CSRF token.');
    this.write(`${this.tokenKey}.csrf`, data.csrfToken);
    return data.csrfToken;
  }

  private sessionEnded(): ApiError {
    this.endSession();
    for (const listener of this.unauthorizedListeners) listener();
    return new ApiError('UNAUTHORIZED', 401, 'Your session has ended.');
  }

  get<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body: body ?? {} });
  }

  delete<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const authFlow = isAuthFlow(path);
    // A token known to be expired is renewed before the call rather than after a 401.
    const token = authFlow ? this.token : await this.freshToken();

    let result = await this.send(method, path, options, token);
    if (result.response.status === 401 && !authFlow && this.hasSession) {
      // Expired early, revoked, or the stored token was tampered with: refresh once and retry once.
      if (!(await this.refresh(token))) throw this.sessionEnded();
      result = await this.send(method, path, options, this.token);
      if (result.response.status === 401) throw this.sessionEnded();
    }

    const { response, data } = result;
    if (!response.ok) {
      const error = (data as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
      const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
      const message = typeof error?.message === 'string' ? error.message : response.statusText;
      const retryAfter = Number(response.headers.get('Retry-After'));
      const details = error?.details && typeof error.details === 'object' && !Array.isArray(error.details) ? (error.details as Record<string, unknown>) : null;
      throw new ApiError(code, response.status, message, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null, details);
    }
    return data as T;
  }

  private async send(method: string, path: string, options: RequestOptions, token: string | null) {
    const url = new URL(`/api${path}`, window.location.origin);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value != null && value !== '') url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;

    let response: Response;
    try {
      response = await fetch(url.pathname + url.search, {
        method,
        headers,
        credentials: 'same-origin',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError('NETWORK', 0, 'The server could not be reached.');
    }

    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    return { response, data };
  }
}

/**
 * A fresh key for one purchase or credit. crypto.randomUUID only exists in secure contexts
 * (https or localhost), so plain-http deployments fall back to getRandomValues.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const isAbort = (error: unknown) => error instanceof DOMException && error.name === 'AbortError';

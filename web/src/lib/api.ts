/**
 * The one HTTP client both apps use. JSON in, JSON out; API errors become ApiError with the
 * server's stable `code`; a 401 on an authenticated call forgets the token and tells the app,
 * which goes back to sign-in.
 */

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export class ApiClient {
  private readonly unauthorizedListeners = new Set<() => void>();

  /** @param tokenKey localStorage key: the web and admin apps keep separate sessions. */
  constructor(private readonly tokenKey: string) {}

  get token(): string | null {
    try {
      return localStorage.getItem(this.tokenKey);
    } catch {
      return null;
    }
  }

  setToken(token: string | null): void {
    try {
      if (token) localStorage.setItem(this.tokenKey, token);
      else localStorage.removeItem(this.tokenKey);
    } catch {
      // Private mode without storage: the session simply does not survive a reload.
    }
  }

  /** Called after any authenticated request is answered 401. Returns an unsubscribe function. */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  /** URL of the Server-Sent Events stream (EventSource cannot send headers, so the token rides in the query). */
  eventsUrl(): string | null {
    const token = this.token;
    return token ? `/api/events?access_token=${encodeURIComponent(token)}` : null;
  }

  get<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body: body ?? {} });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(`/api${path}`, window.location.origin);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value != null && value !== '') url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;

    let response: Response;
    try {
      response = await fetch(url.pathname + url.search, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
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

    if (!response.ok) {
      const error = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
      const message = typeof error?.message === 'string' ? error.message : response.statusText;
      if (response.status === 401 && token) {
        this.setToken(null);
        for (const listener of this.unauthorizedListeners) listener();
      }
      throw new ApiError(code, response.status, message);
    }
    return data as T;
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

/** True when the request may or may not have reached the server: retry with the SAME idempotency key. */
export const isOutcomeUnknown = (error: unknown) =>
  error instanceof ApiError && (error.code === 'NETWORK' || error.status >= 500);

export const isAbort = (error: unknown) => error instanceof DOMException && error.name === 'AbortError';

const MESSAGES: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Your balance is too low for this number. Add funds to your wallet and try again.',
  INVALID_CREDENTIALS: 'That email and password do not match. Check them and try again.',
  EMAIL_TAKEN: 'An account with this email already exists. Sign in instead.',
  UNAUTHORIZED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  ADMIN_REQUIRED: 'Admin access required. Sign in with an admin account.',
  NOT_FOUND: 'We could not find that. It may have been removed.',
  NO_NUMBERS: 'No numbers are available for this service and country right now. Try another country.',
  PRICE_CHANGED: 'The price went up since the list was loaded. Check the new price and buy again.',
  EARLY_CANCEL: 'It is too early to cancel this number. Wait until the countdown ends and try again.',
  BAD_STATE: 'That action is no longer possible for this number.',
  RATE_LIMITED: 'Too many requests. Wait a few seconds and try again.',
  IDEMPOTENCY_CONFLICT: 'This request was already sent with different details. Please try again.',
  PROVIDER_UNAVAILABLE: 'Our number providers are not responding. Try again in a minute.',
  NETWORK: 'Cannot reach SimGate. Check your connection and try again.',
  INTERNAL: 'Something went wrong on our side. Try again in a moment.',
};

/** Codes the server may spell differently, folded onto the messages above. */
const ALIASES: Record<string, string> = {
  EMAIL_EXISTS: 'EMAIL_TAKEN',
  EMAIL_IN_USE: 'EMAIL_TAKEN',
  USER_EXISTS: 'EMAIL_TAKEN',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  INVALID_TOKEN: 'UNAUTHORIZED',
  TOKEN_EXPIRED: 'UNAUTHORIZED',
  NO_STOCK: 'NO_NUMBERS',
  OUT_OF_STOCK: 'NO_NUMBERS',
  NO_OFFERS: 'NO_NUMBERS',
  NO_PROVIDER: 'NO_NUMBERS',
  WRONG_MAX_PRICE: 'PRICE_CHANGED',
  PRICE_ABOVE_MAX: 'PRICE_CHANGED',
  PRICE_TOO_HIGH: 'PRICE_CHANGED',
  EARLY_CANCEL_DENIED: 'EARLY_CANCEL',
  CANCEL_TOO_EARLY: 'EARLY_CANCEL',
  INVALID_STATE: 'BAD_STATE',
  ACTION_NOT_ALLOWED: 'BAD_STATE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  UPSTREAM_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL',
};

const VALIDATION_CODES = new Set(['VALIDATION_ERROR', 'VALIDATION_FAILED', 'BAD_REQUEST', 'INVALID_INPUT']);

/** Any thrown value → one sentence a customer can act on. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error && error.message ? error.message : 'Something went wrong. Please try again.';
  }
  const code = ALIASES[error.code] ?? error.code;
  if (MESSAGES[code]) return MESSAGES[code];
  if (VALIDATION_CODES.has(code)) {
    return error.message ? `Please check what you entered: ${error.message}` : 'Please check what you entered.';
  }
  // Unknown code: the server's message is written to be safe to show.
  if (error.message && !error.code.startsWith('HTTP_')) return error.message;
  if (error.status === 401) return MESSAGES.UNAUTHORIZED;
  if (error.status === 403) return MESSAGES.FORBIDDEN;
  if (error.status === 404) return MESSAGES.NOT_FOUND;
  if (error.status === 429) return MESSAGES.RATE_LIMITED;
  if (error.status >= 500) return MESSAGES.INTERNAL;
  return `Something went wrong (${error.code}). Please try again.`;
}

import type { Logger } from '../lib/logger';
import { ProviderError } from './types';

/** How an adapter reaches its provider; the same for every wire protocol. */
export interface HttpTransport {
  /** The provider id, named in every error and log line. */
  id: string;
  /** Whole-call budget: connect, headers and body. */
  timeoutMs: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  logger?: Logger;
}

export interface HttpRequest {
  /** The protocol's name for the call (`getStatus`, `buy` …), for errors and logs. */
  action: string;
  url: URL;
  headers: Record<string, string>;
}

/**
 * Turns a reply into the protocol's value, or throws the ProviderError it amounts to. `context`
 * (`<provider> <action>`) starts every error message.
 */
export type ReplyParser<T> = (status: number, body: string, context: string) => T;

/**
 * One GET under the transport's time budget. The body is read as text and handed to `parse`
 * with the status, since neither status nor content type can be trusted alone by either
 * protocol; no reply at all (a timeout, a refused or dropped connection) is TRANSIENT.
 */
export async function httpCall<T>(transport: HttpTransport, request: HttpRequest, parse: ReplyParser<T>): Promise<T> {
  const { action, url, headers } = request;
  const context = `${transport.id} ${action}`;
  const fetch = transport.fetch ?? globalThis.fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), transport.timeoutMs);
  const started = Date.now();
  try {
    const response = await fetch(url, { signal: controller.signal, headers });
    const body = await response.text();
    transport.logger?.debug({ provider: transport.id, action, status: response.status, ms: Date.now() - started }, 'provider call');
    return parse(response.status, body, context);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    // Never put the URL in the message: handler_api carries the API key in it.
    if (controller.signal.aborted) throw new ProviderError('TRANSIENT', 'TIMEOUT', `${context}: no reply within ${transport.timeoutMs} ms`, undefined, { cause: error });
    throw new ProviderError('TRANSIENT', 'NETWORK', `${context}: ${describe(error)}`, undefined, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** undici's `fetch failed` says nothing on its own; the cause (ECONNREFUSED, socket hang up …) does. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

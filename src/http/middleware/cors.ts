import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Strict CORS: only origins on the configured allow-list (CORS_ORIGINS) get CORS headers, with
 * credentials; every other cross-origin caller gets none, so browsers refuse to hand it the
 * answer. The web and admin apps are served from the API's own origin and need no entry.
 */
export function corsPolicy(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-CSRF-Token', 'X-Api-Key', 'X-Signature', 'X-Signature-Timestamp', 'X-Signature-Nonce'],
    exposedHeaders: ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
    maxAge: 600,
  });
}

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type Redis from 'ioredis';
import type { ApiKeyService } from '../../auth/api-keys.service';
import { checkTimestamp, NONCE_PATTERN, SIGNATURE_HEADER, SIGNATURE_NONCE_HEADER, SIGNATURE_TIMESTAMP_HEADER, verifyRequestSignature } from '../../auth/signing';
import { AppError } from '../../lib/errors';
import { currentApiKey } from './api-key';

/** Keeps the exact bytes of a JSON body for signature checks (express.json's `verify` hook). */
export function captureRawBody(req: Request, _res: Response, buffer: Buffer): void {
  (req as Request & { rawBody?: Buffer }).rawBody = buffer;
}

export function rawBodyOf(req: Request): Buffer {
  return (req as Request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
}

/**
 * Request signing for sensitive partner actions (docs/partners.md): HMAC-SHA256 of
 * METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256(body) under the API key's signing secret, a timestamp
 * within ± tolerance, and a nonce never seen before (Redis SET NX, kept twice the tolerance so a
 * nonce cannot come back while its timestamp is still acceptable). Runs after requireApiKey.
 */
export function requireSignature(deps: { apiKeys: ApiKeyService; redis: Redis; toleranceSeconds: number; prefix: string; now?: () => number }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const principal = currentApiKey(res);
    const timestamp = req.get(SIGNATURE_TIMESTAMP_HEADER) ?? '';
    const nonce = req.get(SIGNATURE_NONCE_HEADER) ?? '';
    const signature = req.get(SIGNATURE_HEADER) ?? '';
    if (!timestamp || !nonce || !signature || !NONCE_PATTERN.test(nonce)) {
      return next(new AppError('SIGNATURE_INVALID', 'This action must be signed: send X-Signature-Timestamp, X-Signature-Nonce (16–128 of A–Z a–z 0–9 _ -) and X-Signature.'));
    }
    const parts = { method: req.method, path: req.originalUrl, timestamp, nonce, body: rawBodyOf(req) };
    if (!verifyRequestSignature(deps.apiKeys.signingSecret(principal), parts, signature)) {
      return next(new AppError('SIGNATURE_INVALID', 'The request signature does not match (see docs/partners.md for the string to sign).'));
    }
    const nowSeconds = Math.floor((deps.now?.() ?? Date.now()) / 1000);
    if (checkTimestamp(timestamp, nowSeconds, deps.toleranceSeconds) !== 'ok') {
      return next(new AppError('SIGNATURE_EXPIRED', `X-Signature-Timestamp must be unix seconds within ${deps.toleranceSeconds} s of the server clock.`, { serverTime: nowSeconds }));
    }
    deps.redis.set(`${deps.prefix}:sig-nonce:${principal.keyId}:${nonce}`, '1', 'EX', deps.toleranceSeconds * 2 + 60, 'NX').then((stored) => {
      if (stored !== 'OK') return next(new AppError('NONCE_REUSED', 'This nonce was already used; every signed request needs a new one.'));
      next();
    }, next);
  };
}

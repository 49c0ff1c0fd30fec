import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hasScope, type ApiKeyPrincipal, type ApiKeyScope, type ApiKeyService } from '../../auth/api-keys.service';
import { AppError } from '../../lib/errors';

/** The key from `X-Api-Key`, or `Authorization: Bearer sg_…`. */
function presentedKey(req: Request): string | null {
  const header = req.get('x-api-key');
  if (header) return header;
  const authorization = req.get('authorization');
  const match = authorization ? /^Bearer\s+(sg_\S+)$/i.exec(authorization) : null;
  return match ? match[1] : null;
}

/** Partner authentication for /api/v1: sets req.user (the key's owner) and the key itself (currentApiKey). */
export function requireApiKey(apiKeys: ApiKeyService): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const raw = presentedKey(req);
    if (!raw) return next(new AppError('API_KEY_REQUIRED', 'Send your API key in X-Api-Key or as Authorization: Bearer sg_….'));
    apiKeys.authenticate(raw).then((principal) => {
      if (!principal) return next(new AppError('API_KEY_INVALID', 'This API key is unknown or revoked.'));
      res.locals.apiKey = principal;
      req.user = principal.user;
      next();
    }, next);
  };
}

export function requireScope(scope: ApiKeyScope): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    if (!hasScope(currentApiKey(res).scopes, scope)) {
      return next(new AppError('INSUFFICIENT_SCOPE', `This API key lacks the '${scope}' scope.`, { requiredScope: scope }));
    }
    next();
  };
}

export function currentApiKey(res: Response): ApiKeyPrincipal {
  const principal = res.locals.apiKey as ApiKeyPrincipal | undefined;
  if (!principal) throw new AppError('API_KEY_REQUIRED', 'An API key is required.');
  return principal;
}

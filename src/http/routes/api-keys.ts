import { Router } from 'express';
import { z } from 'zod';
import { API_KEY_SCOPES, type ApiKeyService } from '../../auth/api-keys.service';
import { currentUser } from '../middleware/auth';
import { clientIp } from '../middleware/rate-limit';
import { valid, validate } from '../middleware/validate';

export const createApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  })
  .strict();
const create = { body: createApiKeyBody };
const byId = { params: z.object({ id: z.uuid() }) };

/**
 * /api/keys (signed-in users, bearer access token): create, list and revoke partner API keys.
 * The key and its signing secret are in the creation answer only.
 */
export function apiKeyRoutes(deps: { apiKeys: ApiKeyService }): Router {
  const router = Router();

  router.post('/', validate(create), async (req, res) => {
    const { body } = valid(res, create);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(await deps.apiKeys.create(currentUser(req).id, body, { ip: clientIp(req) }));
  });

  router.get('/', async (req, res) => {
    res.json({ apiKeys: await deps.apiKeys.list(currentUser(req).id) });
  });

  router.delete('/:id', validate(byId), async (req, res) => {
    const { params } = valid(res, byId);
    res.json({ apiKey: await deps.apiKeys.revoke(currentUser(req).id, params.id, { ip: clientIp(req) }) });
  });

  return router;
}

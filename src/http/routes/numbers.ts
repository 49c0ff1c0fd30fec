import { Router } from 'express';
import { z } from 'zod';
import type { ActivationService } from '../../activations/activation.service';
import { currentUser } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';
import { activationIdParams, countryIso, idempotencyKey, positiveMicros, serviceCode } from '../schemas';

const purchase = {
  body: z.object({ service: serviceCode, country: countryIso, maxPriceMicros: positiveMicros.optional() }).strict(),
};
const byId = { params: activationIdParams };
const listQuery = { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }) };

/** /api/numbers: buy a number, read it, and act on it. Every route is the signed-in user's own. */
export function numbersRoutes(deps: { activations: ActivationService }): Router {
  const router = Router();

  router.post('/', validate(purchase), async (req, res) => {
    const { body } = valid(res, purchase);
    const header = req.get('Idempotency-Key');
    const key = header === undefined ? null : idempotencyKey.parse(header);
    const { activation, created } = await deps.activations.purchase({
      userId: currentUser(req).id,
      serviceCode: body.service,
      countryIso: body.country,
      maxPriceMicros: body.maxPriceMicros ?? null,
      idempotencyKey: key,
    });
    res.status(created ? 201 : 200).json({ activation });
  });

  router.get('/', validate(listQuery), async (req, res) => {
    const { query } = valid(res, listQuery);
    res.json({ activations: await deps.activations.list({ userId: currentUser(req).id, limit: query.limit }) });
  });

  router.get('/:id', validate(byId), async (req, res) => {
    const { params } = valid(res, byId);
    res.json({ activation: await deps.activations.get(params.id, currentUser(req).id) });
  });

  const actions = { cancel: 'cancel', retry: 'requestAnotherSms', finish: 'finish' } as const;
  for (const [path, method] of Object.entries(actions)) {
    router.post(`/:id/${path}`, validate(byId), async (req, res) => {
      const { params } = valid(res, byId);
      res.json({ activation: await deps.activations[method](params.id, currentUser(req).id) });
    });
  }
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { CatalogService } from '../../catalog/catalog.service';
import { countryIso, serviceCode } from '../schemas';
import { valid, validate } from '../middleware/validate';

const servicesQuery = { query: z.object({ q: z.string().max(100).default(''), limit: z.coerce.number().int().min(1).max(100).default(20) }) };
const offersQuery = { query: z.object({ service: serviceCode, country: countryIso.optional() }) };

export function catalogRoutes(deps: { catalog: CatalogService }): Router {
  const router = Router();
  router.get('/services', validate(servicesQuery), async (_req, res) => {
    const { query } = valid(res, servicesQuery);
    res.json({ services: await deps.catalog.searchServices(query.q, query.limit) });
  });
  router.get('/offers', validate(offersQuery), async (_req, res) => {
    const { query } = valid(res, offersQuery);
    await deps.catalog.requireService(query.service);
    if (query.country) await deps.catalog.requireCountry(query.country);
    res.json({ offers: await deps.catalog.offersForService(query.service, query.country) });
  });
  return router;
}

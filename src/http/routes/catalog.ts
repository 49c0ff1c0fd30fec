import { Router } from 'express';
import { z } from 'zod';
import type { CatalogService } from '../../catalog/catalog.service';
import { MAX_LIMIT, MAX_QUERY_LENGTH } from '../../catalog/search/search-engine';
import { countryIso, serviceCode } from '../schemas';
import { valid, validate } from '../middleware/validate';

const q = z.string().max(MAX_QUERY_LENGTH).default('');
const limit = z.coerce.number().int().min(1).max(MAX_LIMIT).default(20);
const servicesQuery = { query: z.object({ q, limit }) };
const countriesQuery = { query: z.object({ q, service: serviceCode.optional(), limit }) };
const searchQuery = { query: z.object({ q, limit: limit.default(10) }) };
const popularQuery = { query: z.object({ limit: limit.default(10) }) };
const offersQuery = { query: z.object({ service: serviceCode, country: countryIso.optional() }) };

export function catalogRoutes(deps: { catalog: CatalogService }): Router {
  const router = Router();
  /** Services by name, alias, code or 5sim slug, typos forgiven; an empty q lists what is on sale, cheapest first. */
  router.get('/services', validate(servicesQuery), async (_req, res) => {
    const { query } = valid(res, servicesQuery);
    res.json({ services: await deps.catalog.searchServices(query.q, query.limit) });
  });
  /** Countries by name (English or Russian), ISO code, 5sim slug or dialling code; prices for `service` when given. */
  router.get('/countries', validate(countriesQuery), async (_req, res) => {
    const { query } = valid(res, countriesQuery);
    if (query.service) await deps.catalog.requireService(query.service);
    res.json({ countries: await deps.catalog.search.searchCountries(query.q, { limit: query.limit, serviceCode: query.service }) });
  });
  /** One box for both: "telegram", "england", "+62". */
  router.get('/search', validate(searchQuery), async (_req, res) => {
    const { query } = valid(res, searchQuery);
    res.json(await deps.catalog.searchAll(query.q, query.limit));
  });
  /** What customers buy most, then the well-known services (Telegram, WhatsApp…), in stock only. */
  router.get('/popular', validate(popularQuery), async (_req, res) => {
    const { query } = valid(res, popularQuery);
    res.json({ services: await deps.catalog.popularServices(query.limit) });
  });
  router.get('/offers', validate(offersQuery), async (_req, res) => {
    const { query } = valid(res, offersQuery);
    await deps.catalog.requireService(query.service);
    if (query.country) await deps.catalog.requireCountry(query.country);
    res.json({ offers: await deps.catalog.offersWithDelivery(query.service, query.country) });
  });
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../../lib/audit';
import { valid, validate } from '../middleware/validate';
import { pgBigint } from '../schemas';

const auditQuery = {
  query: z.object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    actorId: z.uuid().optional(),
    targetId: z.string().max(100).optional(),
    before: pgBigint.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
};

/** /api/admin/audit: mounted inside the admin router (requireUser + requireAdmin). */
export function auditRoutes(deps: { audit: AuditLog }): Router {
  const router = Router();
  /** The action names the filter accepts (the admin panel's list). */
  router.get('/actions', (_req, res) => {
    res.json({ actions: AUDIT_ACTIONS });
  });
  router.get('/', validate(auditQuery), async (_req, res) => {
    const { query } = valid(res, auditQuery);
    res.json({ entries: await deps.audit.list(query) });
  });
  return router;
}

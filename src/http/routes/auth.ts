import { Router } from 'express';
import { z } from 'zod';
import type { AuthService } from '../../auth/auth.service';
import { currentUser, requireUser } from '../middleware/auth';
import { valid, validate } from '../middleware/validate';

const credentials = {
  body: z.object({
    email: z.email().max(254),
    password: z.string().min(8, 'must be at least 8 characters').max(200),
  }),
};

export function authRoutes(deps: { auth: AuthService }): Router {
  const router = Router();
  router.post('/register', validate(credentials), async (_req, res) => {
    const { body } = valid(res, credentials);
    res.status(201).json(await deps.auth.register(body));
  });
  router.post('/login', validate(credentials), async (_req, res) => {
    const { body } = valid(res, credentials);
    res.json(await deps.auth.login(body));
  });
  router.get('/me', requireUser, (req, res) => {
    res.json({ user: currentUser(req) });
  });
  return router;
}

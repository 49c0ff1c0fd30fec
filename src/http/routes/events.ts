import type { RequestHandler } from 'express';
import type { ActivationEventHub } from '../../activations/live-events';
import type { AuthService } from '../../auth/auth.service';
import { currentUser } from '../middleware/auth';

/** POST /api/events/ticket (bearer): a one-use ticket for `GET /api/events?ticket=`, valid `expiresIn` seconds. */
export function streamTicketRoute(auth: AuthService): RequestHandler {
  return async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(await auth.issueStreamTicket(currentUser(req)));
  };
}

/** GET /api/events: the signed-in user's activation changes as server-sent events. */
export function eventsRoute(hub: ActivationEventHub): RequestHandler {
  return (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const unsubscribe = hub.subscribe(currentUser(req).id, (frame) => res.write(frame));
    req.on('close', unsubscribe);
  };
}

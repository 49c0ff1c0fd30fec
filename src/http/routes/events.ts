import type { RequestHandler } from 'express';
import type { ActivationEventHub } from '../../activations/live-events';
import { currentUser } from '../middleware/auth';

/** GET /api/events: the signed-in user's activation changes as server-sent events. */
export function eventsRoute(hub: ActivationEventHub): RequestHandler {
  return (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const unsubscribe = hub.subscribe(currentUser(req).id, (frame) => res.write(frame));
    req.on('close', unsubscribe);
  };
}

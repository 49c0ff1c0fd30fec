import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

type Body = Record<string, unknown>;

/** How the receiver answers one request: a status, after a delay (longer than the sender's timeout: a timeout). */
export interface ReceiverReply {
  status?: number;
  delayMs?: number;
}

/** One request as it arrived, with the answer it got (bodies answered 2xx are also in `received`). */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Body;
  status: number;
  /** Set when the answer was held back (the sender's timeout is the point). */
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every body answered 2xx, in order of arrival. */
  received: Body[];
  /** Every request, whatever it was answered. */
  requests: ReceivedRequest[];
  /** Replies for the next requests, in order; once used up, every request is answered 200. */
  script(replies: ReceiverReply[]): void;
  /**
   * The next body not yet taken; with `activationId`, the next one for that activation, so that
   * an earlier test's straggler is skipped, never mistaken for this test's.
   */
  next(activationId?: string | number): Promise<Body>;
  /** Forgets the bodies not yet taken. */
  clear(): void;
  close(): Promise<void>;
}

/**
 * A local webhook endpoint on a free port: for the simulator's SMS webhooks, and for partner
 * webhooks, where a script makes it fail (5xx), time out (a reply slower than the sender waits)
 * and recover.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Body[] = [];
  const requests: ReceivedRequest[] = [];
  let replies: ReceiverReply[] = [];
  let unread: Body[] = [];
  let waiting: { wants: (body: Body) => boolean; resolve: (body: Body) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Body;
      const reply = replies.shift() ?? {};
      const status = reply.status ?? 200;
      requests.push({ headers: req.headers, raw, body, status, ...(reply.delayMs ? { delayMs: reply.delayMs } : {}) });
      const answer = () => {
        if (res.destroyed) return;
        res.statusCode = status;
        res.end(status < 300 ? 'ok' : 'failed');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
      if (status >= 300 || reply.delayMs) return;
      received.push(body);
      const waiter = waiting.find((candidate) => candidate.wants(body));
      if (waiter) {
        waiting = waiting.filter((candidate) => candidate !== waiter);
        waiter.resolve(body);
      } else unread.push(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    requests,
    script(next) {
      replies = [...next];
    },
    next(activationId) {
      const wants = activationId === undefined ? () => true : (body: Body) => body.activationId === Number(activationId);
      const index = unread.findIndex(wants);
      if (index >= 0) return Promise.resolve(unread.splice(index, 1)[0]);
      return new Promise((resolve) => waiting.push({ wants, resolve }));
    },
    clear() {
      unread = [];
      waiting = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

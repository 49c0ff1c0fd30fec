import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type Body = Record<string, unknown>;

export interface WebhookReceiver {
  url: string;
  /** Every body received, in order of arrival. */
  received: Body[];
  /**
   * The next body not yet taken; with `activationId`, the next one for that activation, so that
   * an earlier test's straggler is skipped, never mistaken for this test's.
   */
  next(activationId?: string | number): Promise<Body>;
  /** Forgets the bodies not yet taken. */
  clear(): void;
  close(): Promise<void>;
}

/** A local webhook endpoint on a free port, for the simulator's SMS webhooks. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Body[] = [];
  let unread: Body[] = [];
  let waiting: { wants: (body: Body) => boolean; resolve: (body: Body) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      received.push(body);
      res.end('ok');
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

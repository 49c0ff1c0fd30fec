import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { safeEqual } from '../auth/tokens';
import { eventMetrics } from '../lib/metrics';
import type { Logger } from '../lib/logger';

export interface WorkerMetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A port nobody listens on now, for the SDK's exporter (it cannot report the port it got for 0). */
export async function freeLocalPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * The worker process's `GET /metrics`, on its own port (WORKER_METRICS_PORT): this process's
 * counters (purchases, refunds, SMS latency, provider calls, breakers: src/lib/metrics.ts), Node's
 * process metrics, and the Temporal SDK's metrics (task slots, poll and schedule-to-start
 * latencies, workflow and activity outcomes), fetched from the SDK's exporter on loopback and
 * appended, so one scrape job sees the whole worker. With METRICS_TOKEN set it wants that bearer token.
 */
export async function startWorkerMetricsServer(options: { host: string; port: number; token: string | null; sdkMetricsUrl: string | null; logger: Logger }): Promise<WorkerMetricsServer> {
  const own = new Registry();
  collectDefaultMetrics({ register: own });
  const registry = Registry.merge([own, eventMetrics]);
  const sdkMetrics = async (): Promise<string> => {
    if (!options.sdkMetricsUrl) return '';
    try {
      const response = await fetch(options.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
      return response.ok ? await response.text() : '';
    } catch (error) {
      options.logger.warn({ err: error }, 'Temporal SDK metrics unavailable');
      return '';
    }
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ROUTE_NOT_FOUND', message: 'Only GET /metrics here.' } }));
      return;
    }
    if (options.token !== null && !safeEqual(req.headers.authorization ?? '', `Bearer ${options.token}`)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' }).end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.' } }));
      return;
    }
    Promise.all([registry.metrics(), sdkMetrics()]).then(
      ([ours, sdk]) => res.writeHead(200, { 'content-type': registry.contentType }).end(sdk ? `${ours}\n${sdk}` : ours),
      (error: unknown) => {
        options.logger.error({ err: error }, 'worker metrics failed');
        res.writeHead(500).end();
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/metrics`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

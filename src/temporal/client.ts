import { Client, Connection } from '@temporalio/client';
import { requestIdClientInterceptor } from './request-id';

export interface TemporalConnection {
  client: Client;
  close(): Promise<void>;
}

/** One connection per process, opened at start-up and closed at shutdown (STYLE.md). */
export async function connectTemporal(options: { address: string; namespace: string }): Promise<TemporalConnection> {
  const connection = await Connection.connect({ address: options.address });
  // Starts, signals and updates made inside a request carry its id into the workflow (request-id.ts).
  const client = new Client({ connection, namespace: options.namespace, interceptors: { workflow: [requestIdClientInterceptor] } });
  return { client, close: () => connection.close() };
}

import { Client, Connection } from '@temporalio/client';

export interface TemporalConnection {
  client: Client;
  close(): Promise<void>;
}

/** One connection per process, opened at start-up and closed at shutdown (STYLE.md). */
export async function connectTemporal(options: { address: string; namespace: string }): Promise<TemporalConnection> {
  const connection = await Connection.connect({ address: options.address });
  const client = new Client({ connection, namespace: options.namespace });
  return { client, close: () => connection.close() };
}

import { dropDatabase } from '../../src/db/migrate';
import type { DevServer } from '../../src/temporal/dev-server';

export default async function globalTeardown(): Promise<void> {
  const temporal = (globalThis as Record<string, unknown>).__SIMGATE_TEMPORAL__ as DevServer | undefined;
  await temporal?.stop();
  if (process.env.DATABASE_URL && process.env.KEEP_TEST_DB !== '1') await dropDatabase(process.env.DATABASE_URL);
}

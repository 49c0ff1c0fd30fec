import { ConfigError } from '../config/env.schema';

/**
 * Runs an entry point: start() returns its stop function, called once on SIGINT/SIGTERM.
 * A configuration error prints every problem and exits 2; any other start-up error exits 1.
 */
export function runMain(start: () => Promise<() => Promise<void>>): void {
  let stopping = false;
  start()
    .then((stop) => {
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`\n${signal}: shutting down…\n`);
        const force = setTimeout(() => process.exit(1), 30_000);
        force.unref();
        try {
          await stop();
          process.exit(0);
        } catch (error) {
          process.stderr.write(`shutdown failed: ${(error as Error).stack}\n`);
          process.exit(1);
        }
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`start-up failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
}

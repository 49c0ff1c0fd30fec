import { loadConfig } from '../src/config/app.config';
import { applyMigrations } from '../src/db/migrate';

// `npm run db:migrate`: the same runner `npm start` and the tests use.
applyMigrations(loadConfig().env.DATABASE_URL).then(
  (result) => console.log(`migrations applied: ${result.applied.length ? result.applied.join(', ') : 'none'}; already applied: ${result.skipped.length}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

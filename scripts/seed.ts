import { loadConfig } from '../src/config/app.config';
import { createContainer } from '../src/container';
import { seedCatalog } from '../src/runtime';

// `npm run db:seed`: reference data, the admin account and every configured provider's prices.
async function main() {
  const config = loadConfig();
  const container = await createContainer(config);
  try {
    const result = await seedCatalog(container);
    if (!config.env.ADMIN_SETUP_TOKEN) await container.auth.ensureAdmin(config.env.ADMIN_EMAIL, config.env.ADMIN_PASSWORD);
    console.log(`catalog: ${result.offers} offers${result.failed.length ? `; failed providers: ${result.failed.join(', ')}` : ''}`);
  } finally {
    await container.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

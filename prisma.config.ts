import { defineConfig } from 'prisma/config';

// Prisma 7 reads the connection here, not from schema.prisma. Only `prisma migrate deploy`
// (on machines that can fetch the schema engine) uses it; the app connects through
// @prisma/adapter-pg with DATABASE_URL from src/config.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/simgate' },
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { applyMigrations, dropDatabase, ensureDatabase } from '../../src/db/migrate';

// scripts/prisma-sql.cjs is CommonJS tooling shared with `npm run db:sql`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { schemaSql } = require('../../scripts/prisma-sql.cjs') as { schemaSql: (options?: { schemaPath?: string }) => string };

/**
 * prisma/schema.prisma is the source of truth; prisma/migrations must build exactly the database
 * it describes. Two fresh databases — one from the migrations, one from the SQL Prisma derives
 * from the schema — must have identical catalogs.
 */
describe('migrations and schema.prisma', () => {
  const base = (process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/x').replace(/\/[^/]+$/, '');
  const stamp = `${Date.now()}_${process.pid}`;
  const fromMigrations = `${base}/simgate_drift_m_${stamp}`;
  const fromSchema = `${base}/simgate_drift_s_${stamp}`;
  const fromEditedSchema = `${base}/simgate_drift_e_${stamp}`;

  afterAll(async () => {
    await Promise.all([fromMigrations, fromSchema, fromEditedSchema].map((url) => dropDatabase(url)));
  });

  it('build the same database', async () => {
    await applyMigrations(fromMigrations);
    await createFromSql(fromSchema, schemaSql());
    expect(await catalog(fromMigrations)).toEqual(await catalog(fromSchema));
  }, 120_000);

  it('would notice a schema change that has no migration', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'simgate-drift-'));
    try {
      const edited = path.join(dir, 'schema.prisma');
      const source = readFileSync(path.resolve(__dirname, '../../prisma/schema.prisma'), 'utf8');
      writeFileSync(edited, source.replace('  phone           String?', '  phone           String?\n  nickname        String?'));
      await createFromSql(fromEditedSchema, schemaSql({ schemaPath: edited }));
      const drifted = await catalog(fromEditedSchema);
      expect(drifted).not.toEqual(await catalog(fromMigrations));
      expect(drifted.columns).toContain('activations.nickname text nullable default=null');
      expect(drifted.columns.length).toBe((await catalog(fromMigrations)).columns.length + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

async function createFromSql(url: string, sql: string) {
  await ensureDatabase(url);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Everything about the public schema that a migration can change, as sorted strings. */
async function catalog(url: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows.map((row) => Object.values(row).join(' ')).sort();
    return {
      columns: await q(`
        SELECT table_name || '.' || column_name AS name, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END
          || COALESCE('(' || character_maximum_length || ')', '') || COALESCE('(p' || datetime_precision || ')', '') AS type,
          CASE WHEN is_nullable = 'YES' THEN 'nullable' ELSE 'not-null' END AS nullable, 'default=' || COALESCE(column_default, 'null') AS dflt
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`),
      constraints: await q(`
        SELECT rel.relname || '.' || con.conname AS name, pg_get_constraintdef(con.oid) AS def
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
        WHERE n.nspname = 'public' AND rel.relname <> '_prisma_migrations'`),
      indexes: await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`),
      enums: await q(`
        SELECT t.typname AS name, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' GROUP BY t.typname`),
      extensions: await q(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'`),
    };
  } finally {
    await client.end();
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { applyMigrations, dropDatabase, MIGRATIONS_DIR } from '../../src/db/migrate';

/**
 * The migration runner against brand-new databases on the run's PostgreSQL server: idempotent,
 * safe when several processes start at once, strict about edited history, and compatible with
 * Prisma's `_prisma_migrations` bookkeeping. Every database made here is dropped at the end.
 */

const created: string[] = [];
const tempDirs: string[] = [];

/** A database URL on the run's server that does not exist yet. */
function freshDatabaseUrl(label: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/simgate_migrate_${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  created.push(url.toString());
  return url.toString();
}

async function query<T extends Record<string, unknown>>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const recorded = (databaseUrl: string) =>
  query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number }>(
    databaseUrl,
    'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
  );

/** prisma/migrations as it is in the repository: directory name → sha256 of migration.sql. */
function repositoryMigrations(dir = MIGRATIONS_DIR): Map<string, string> {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return new Map(names.map((name) => [name, createHash('sha256').update(readFileSync(path.join(dir, name, 'migration.sql'))).digest('hex')]));
}

/** A copy of prisma/migrations to edit. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'simgate-migrations-'));
  tempDirs.push(dir);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

afterAll(async () => {
  for (const url of created) await dropDatabase(url);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  // Nothing left behind on the server.
  const names = created.map((url) => new URL(url).pathname.slice(1));
  const left = await query<{ datname: string }>(process.env.DATABASE_URL!, 'SELECT datname FROM pg_database');
  expect(left.map((row) => row.datname).filter((name) => names.includes(name))).toEqual([]);
});

describe('applyMigrations', () => {
  const expected = repositoryMigrations();

  it('creates a brand-new database, applies every migration, and skips them all the second time', async () => {
    expect(expected.size).toBeGreaterThan(0);
    const url = freshDatabaseUrl('idem');

    const first = await applyMigrations(url);
    expect(first).toEqual({ applied: [...expected.keys()], skipped: [] });
    const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['users', 'wallets', 'ledger_entries', 'holds', 'activations', '_prisma_migrations']));

    const second = await applyMigrations(url);
    expect(second).toEqual({ applied: [], skipped: [...expected.keys()] });
    expect(await recorded(url)).toHaveLength(expected.size);
  });

  it('records each migration with the sha256 checksum of its file, as Prisma does', async () => {
    const url = freshDatabaseUrl('sum');
    await applyMigrations(url);
    const rows = await recorded(url);
    expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual([...expected.entries()]);
    for (const row of rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('lets two (and five) concurrent runs on a fresh database all succeed, applying each migration once', async () => {
    for (const runs of [2, 5]) {
      const url = freshDatabaseUrl(`race${runs}`);
      const results = await Promise.all(Array.from({ length: runs }, () => applyMigrations(url)));

      // Exactly one run applied each migration; every other run skipped it.
      for (const name of expected.keys()) {
        expect(results.filter((r) => r.applied.includes(name))).toHaveLength(1);
        expect(results.filter((r) => r.skipped.includes(name))).toHaveLength(runs - 1);
      }
      const rows = await recorded(url);
      expect(rows.map((row) => row.migration_name)).toEqual([...expected.keys()]);
    }
  });

  it('refuses a migration edited after it was applied, and applies nothing after it', async () => {
    const dir = copyOfMigrations();
    const url = freshDatabaseUrl('edit');
    const [firstName] = [...expected.keys()];

    expect((await applyMigrations(url, dir)).applied).toEqual([...expected.keys()]);

    // Edit the applied migration and add a new one after it.
    writeFileSync(path.join(dir, firstName, 'migration.sql'), `${readFileSync(path.join(dir, firstName, 'migration.sql'), 'utf8')}\n-- edited later\n`);
    const later = '29991231235959_later_change';
    mkdirSync(path.join(dir, later));
    writeFileSync(path.join(dir, later, 'migration.sql'), 'CREATE TABLE later_change (id int);\n');

    await expect(applyMigrations(url, dir)).rejects.toThrow(new RegExp(`migration ${firstName} was edited after it was applied`));
    expect((await recorded(url)).map((row) => [row.migration_name, row.checksum])).toEqual([...expected.entries()]);
    const laterTable = await query(url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'later_change'");
    expect(laterTable).toEqual([]);

    // The untouched history still migrates forward: the new migration applies once.
    const clean = copyOfMigrations();
    mkdirSync(path.join(clean, later));
    writeFileSync(path.join(clean, later, 'migration.sql'), 'CREATE TABLE later_change (id int);\n');
    expect(await applyMigrations(url, clean)).toEqual({ applied: [later], skipped: [...expected.keys()] });
  });

  it('rolls back a failing migration completely and records nothing for it', async () => {
    const dir = copyOfMigrations();
    const url = freshDatabaseUrl('fail');
    const broken = '29991231235959_broken';
    mkdirSync(path.join(dir, broken));
    writeFileSync(path.join(dir, broken, 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');

    await expect(applyMigrations(url, dir)).rejects.toThrow(new RegExp(`migration ${broken} failed`));
    expect((await recorded(url)).map((row) => row.migration_name)).toEqual([...expected.keys()]);
    expect(await query(url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toEqual([]);
  });
});

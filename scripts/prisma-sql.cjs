#!/usr/bin/env node
/**
 * Prints the SQL that creates prisma/schema.prisma from an empty database, offline.
 *
 * Prisma 7's CLI needs a downloaded schema engine for `migrate diff`; Prisma 6's CLI (installed as
 * the `prisma6` alias) can do it with its bundled wasm engine when given a driver adapter. It is
 * used to author migrations (`npm run db:sql > prisma/migrations/<ts>_<name>/migration.sql`, then
 * trim to the change) and by the drift test, which compares the result with what the migrations
 * build.
 *
 *   node scripts/prisma-sql.cjs [--from-schema old.prisma]
 *
 * To add a migration: keep a copy of the schema before your change, edit prisma/schema.prisma, then
 *   mkdir prisma/migrations/$(date -u +%Y%m%d%H%M%S)_<name>
 *   node scripts/prisma-sql.cjs --from-schema old.prisma > prisma/migrations/<that folder>/migration.sql
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function toPrisma6Schema(source) {
  // Prisma 6 wants the prisma-client-js generator and a url in the datasource; the models are the same.
  return source
    .replace(/generator client \{[\s\S]*?\n\}/, (block) => {
      const preview = /previewFeatures\s*=\s*(\[[^\]]*\])/.exec(block);
      return `generator client {\n  provider   = "prisma-client-js"\n  engineType = "client"\n${preview ? `  previewFeatures = ${preview[1]}\n` : ''}}`;
    })
    .replace(/provider(\s*)= "postgresql"/, 'provider$1= "postgresql"\n  url      = env("DATABASE_URL")');
}

function schemaSql({ fromSchema, schemaPath = path.join(root, 'prisma/schema.prisma') } = {}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'simgate-prisma6-'));
  try {
    fs.writeFileSync(path.join(work, 'schema.prisma'), toPrisma6Schema(fs.readFileSync(schemaPath, 'utf8')));
    if (fromSchema) fs.writeFileSync(path.join(work, 'from.prisma'), toPrisma6Schema(fs.readFileSync(fromSchema, 'utf8')));
    fs.writeFileSync(
      path.join(work, 'prisma.config.ts'),
      `import { PrismaPg } from '@prisma/adapter-pg';
export default {
  experimental: { adapter: true },
  engine: 'js',
  schema: 'schema.prisma',
  adapter: async () => new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }),
};
`,
    );
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
    const from = fromSchema ? ['--from-schema-datamodel', 'from.prisma'] : ['--from-empty'];
    const out = execFileSync(
      process.execPath,
      [path.join(root, 'node_modules/prisma6/build/index.js'), 'migrate', 'diff', ...from, '--to-schema-datamodel', 'schema.prisma', '--script'],
      {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DATABASE_URL: 'postgresql://unused@127.0.0.1/unused', PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
      },
    );
    return out.slice(out.indexOf('--'));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { schemaSql };

if (require.main === module) {
  const i = process.argv.indexOf('--from-schema');
  process.stdout.write(schemaSql({ fromSchema: i > 0 ? process.argv[i + 1] : undefined }));
}

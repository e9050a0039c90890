/**
 * Development tool: writes a migration for each database holding what the entities add over the existing migrations.
 * Usage: node dist/src/generate-migration-cli.js <Name>   (needs a local PostgreSQL: PG_ADMIN_URL)
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, DatabaseKind } from './db/data-source';
import { pendingSchemaChanges } from './db/schema-diff';
import { ENTITIES } from './entities';

const name = process.argv[2];
if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
  console.error('usage: generate-migration-cli <PascalCaseName>');
  process.exit(2);
}
const adminUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const timestamp = Date.now();

function render(kind: DatabaseKind, up: string[], down: string[]): string {
  const lines = (queries: string[]) => queries.map((q) => `    await queryRunner.query(${JSON.stringify(q)});`).join('\n');
  return `import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated from the entities for ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}. */
export class ${name}${timestamp} implements MigrationInterface {
  name = '${name}${timestamp}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`;
}

async function generate(kind: DatabaseKind, options: Parameters<typeof dataSourceOptions>[0]): Promise<void> {
  const dataSource = new DataSource(dataSourceOptions(options, 'writer', ENTITIES));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const { up, down } = await pendingSchemaChanges(dataSource);
    if (up.length === 0) return console.log(`${kind}: entities and migrations agree; nothing to generate`);
    const file = path.join(__dirname, '..', '..', 'src', 'db', 'migrations', kind, `${timestamp}-${name}.ts`);
    fs.writeFileSync(file, render(kind, up, down.reverse()));
    console.log(`${kind}: wrote ${path.relative(process.cwd(), file)}; add it to src/db/migrations/index.ts`);
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-migration-'));
  await generate('sqlite', { kind: 'sqlite', path: path.join(dir, 'gen.sqlite') });
  const database = `ledger_gen_${timestamp}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    await generate('postgres', { kind: 'postgres', url: url.toString() });
  } finally {
    await admin.query(`DROP DATABASE ${database}`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

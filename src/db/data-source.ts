import fs from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { DataSourceOptions, Logger } from 'typeorm';
import type { Config } from '../config';
import { MIGRATIONS } from './migrations';

export type DatabaseKind = Config['database']['kind'];

/** SQL statements run by this process, counted only when DATABASE_COUNT_QUERIES=true (benchmarks check reads stay flat). */
export const statementCount = { value: 0 };
const countingLogger: Logger = { logQuery: () => void statementCount.value++, logQueryError() {}, logQuerySlow() {}, logSchemaBuild() {}, logMigration() {}, log() {} };

/** The entity classes TypeORM compares the tables with (src/entities.ts): only schema checks and tools need them. */
export type EntityList = DataSourceOptions['entities'];

/**
 * TypeORM options for one connection to the configured database. `synchronize` is never on: migrations own the schema.
 * `entities` are needed only to compare the tables with them (drift, migration generation).
 */
export function dataSourceOptions(database: Config['database'], role: 'writer' | 'reader' = 'writer', entities: EntityList = []): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS[database.kind],
    synchronize: false,
    logging: false,
    ...(process.env.DATABASE_COUNT_QUERIES === 'true' ? { logger: countingLogger } : {}),
  } as const;
  if (database.kind === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: database.url,
      migrationsTransactionMode: 'each',
      extra: { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), connectionTimeoutMillis: 15_000, application_name: 'pr-ledger' },
    };
  }
  if (database.path !== ':memory:') fs.mkdirSync(path.dirname(database.path), { recursive: true });
  return {
    ...common,
    type: 'sqlite',
    // TypeORM calls `verbose()` on the driver, which makes sqlite3 build an Error and inspect the SQL of every call
    // (a third of a write-off's CPU in a profile). Hand it the plain module instead.
    driver: { verbose: () => sqlite3 },
    database: database.path,
    enableWAL: true,
    busyTimeout: 5000,
    migrationsTransactionMode: 'each',
    ...(role === 'reader' ? { migrations: [] } : {}),
  };
}

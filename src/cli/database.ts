/**
 * The database as the commands (npm start, migrate, token, rules) open it and say why they could not, each failure as
 * one line that says what to do.
 */
import fs from 'node:fs';
import type { Config } from '../config';
import { Database, DatabaseUnavailableError } from '../db/database';

/** Why a command failed on the database: `Cannot reach the database: <reason>. Check DATABASE_URL.` when it is down. */
export function databaseFailure(error: unknown): string {
  if (error instanceof DatabaseUnavailableError) return `Cannot reach the database: ${(error.cause as Error)?.message || 'unknown reason'}. Check DATABASE_URL.`;
  return error instanceof Error ? error.message : String(error);
}

/** The path of a SQLite database file that does not exist, else null: opening it would create an empty one, so check first. */
export function missingSqliteFile(database: Config['database']): string | null {
  return database.kind === 'sqlite' && database.path !== ':memory:' && !fs.existsSync(database.path) ? database.path : null;
}

/** Opens an existing, migrated database for a command (never creating or migrating it): the Database, or why not. */
export async function openExistingDatabase(database: Config['database']): Promise<Database | string> {
  const missing = missingSqliteFile(database);
  if (missing) {
    return `The database ${missing} does not exist: check DATABASE_URL and DATA_DIR, or start the server once (npm start).`;
  }
  try {
    return await Database.connect(database, { migrate: false });
  } catch (error) {
    return databaseFailure(error);
  }
}

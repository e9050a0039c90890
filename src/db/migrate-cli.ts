/**
 * Applies pending migrations and exits: the deploy step before new instances start (npm run migrate). It reads only
 * the database settings, so a deploy job needs DATABASE_URL (or DATA_DIR) and none of the server's secrets.
 */
import 'reflect-metadata';
import path from 'node:path';
import { loadDatabaseConfig, loadDotEnv } from '../config';
import { Database, DatabaseUnavailableError } from './database';

async function main(): Promise<void> {
  loadDotEnv(path.resolve('.env'));
  const db = await Database.connect(loadDatabaseConfig(), { migrate: true });
  await db.close();
  console.log('migrations applied');
}

main().catch((error) => {
  const message =
    error instanceof DatabaseUnavailableError
      ? `Cannot reach the database: ${(error.cause as Error)?.message || 'unknown reason'}. Check DATABASE_URL.`
      : error instanceof Error
        ? error.message
        : String(error);
  console.error(`migration failed: ${message}`);
  process.exit(1);
});

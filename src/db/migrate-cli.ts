/**
 * Applies pending migrations and exits: the deploy step before new instances start (npm run migrate). It reads only
 * the database settings, so a deploy job needs DATABASE_URL (or DATA_DIR) and none of the server's secrets.
 */
import 'reflect-metadata';
import path from 'node:path';
import { loadDatabaseConfig, loadDotEnv } from '../config';
import { Database } from './database';
import { databaseFailure } from '../cli/database';

async function main(): Promise<void> {
  loadDotEnv(path.resolve('.env'));
  const db = await Database.connect(loadDatabaseConfig(), { migrate: true });
  await db.close();
  console.log('migrations applied');
}

main().catch((error) => {
  console.error(`migration failed: ${databaseFailure(error)}`);
  process.exit(1);
});

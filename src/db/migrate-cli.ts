/** Applies pending migrations and exits: the deploy step before new instances start (npm run migrate). */
import 'reflect-metadata';
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config';
import { Database } from './database';

async function main(): Promise<void> {
  loadDotEnv(path.resolve('.env'));
  const db = await Database.connect(loadConfig().database, { migrate: true });
  await db.close();
  console.log('migrations applied');
}

main().catch((error) => {
  console.error(`migration failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});

/**
 * The DataSource the TypeORM CLI uses, built from the same configuration as the server:
 *   npm run build && npx typeorm -d dist/ormconfig.js migration:show
 * The server itself applies migrations on start (or `npm run migrate`); `synchronize` is never on.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config';
import { dataSourceOptions } from './src/db/data-source';

export default new DataSource(dataSourceOptions(loadConfig().database));

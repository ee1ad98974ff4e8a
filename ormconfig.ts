/**
 * Data source for the TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:show`),
 * built from the same configuration as the server (the CLI accepts a
 * module whose default export is a promise of a DataSource).
 */
import 'reflect-metadata';
import { loadConfig } from './src/config';
import { createDataSource } from './src/db/data-source';

export default createDataSource(loadConfig().database);


/** Writes schema/schema.graphql from the code, or with --check fails when the committed file is stale. */
import 'reflect-metadata';
import fs from 'node:fs';
import { buildAppSchema, printAppSchema, SCHEMA_FILE } from './schema';

async function main(): Promise<void> {
  const sdl = printAppSchema(await buildAppSchema());
  if (process.argv.includes('--check')) {
    const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
    if (committed !== sdl) {
      console.error('schema/schema.graphql is stale: run `npm run schema` and commit the result.');
      process.exit(1);
    }
    console.log('schema/schema.graphql matches the code');
    return;
  }
  fs.writeFileSync(SCHEMA_FILE, sdl);
  console.log(`wrote ${SCHEMA_FILE}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** The migrations build exactly the tables the entities describe, on whichever database the suite runs against. */
import { startTestServer, TestServer } from '../harness';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test('after the migrations run, the entities need no further schema change', async () => {
  const db = server.instances[0].services.db;
  expect(await db.pendingMigrations()).toBe(false);
  expect(await db.schemaDrift()).toEqual([]);
});

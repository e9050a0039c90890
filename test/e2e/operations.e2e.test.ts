/**
 * Operations on the default setup (SQLite, in-process events), whatever TEST_DB / TEST_REDIS_URL say: the probes'
 * contract (/healthz: the process is alive; /readyz: database reachable, events ready, migrations applied) and
 * migrations that are pending when a server starts. The PostgreSQL + Redis side is in scale.e2e.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { startTestServer, TestServer } from '../harness';
import { dataSourceOptions } from '../../src/db/data-source';
import { Database } from '../../src/db/database';
import { MIGRATIONS } from '../../src/db/migrations';

// Every server here is given its own database: the harness need not create (and drop) one for TEST_DB=postgres.
// (jest gives each test file its own copy of process.env.)
delete process.env.TEST_DB;

async function probe(server: TestServer, which: 'healthz' | 'readyz') {
  const response = await fetch(server.url.replace(/\/graphql$/, `/${which}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A SQLite file with only the first migration applied: the rest is pending. */
async function partlyMigrated(file: string): Promise<void> {
  const options = dataSourceOptions({ kind: 'sqlite', path: file });
  const source = new DataSource({ ...options, migrations: MIGRATIONS.sqlite.slice(0, 1) } as typeof options);
  await source.initialize();
  await source.runMigrations({ transaction: 'each' });
  await source.destroy();
}

async function appliedMigrations(file: string): Promise<string[]> {
  const source = new DataSource({ type: 'sqlite', database: file });
  await source.initialize();
  try {
    return (await source.query('SELECT name FROM migrations ORDER BY id')).map((row: { name: string }) => row.name);
  } finally {
    await source.destroy();
  }
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-ops-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sqliteEnv = (file: string) => ({ DATABASE_URL: `sqlite:${file}`, REDIS_URL: '' });

test('/healthz answers 200; /readyz answers 200 with the database, the events and the migrations', async () => {
  const server = await startTestServer({ instances: 1, env: sqliteEnv(path.join(dir, 'probes.sqlite')) });
  try {
    expect(server.instances[0].services.db.kind).toBe('sqlite');
    expect(server.instances[0].config.redisUrl).toBeNull();
    expect(await probe(server, 'healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe(server, 'readyz')).toEqual({ status: 200, body: { status: 'ready', database: true, events: true, migrations: 'applied' } });
  } finally {
    await server.stop();
  }
});

test('a migration recorded as not applied makes /readyz 503 with migrations "pending"; /healthz stays 200', async () => {
  const file = path.join(dir, 'pending-probe.sqlite');
  const server = await startTestServer({ instances: 1, env: sqliteEnv(file) });
  const last = MIGRATIONS.sqlite[MIGRATIONS.sqlite.length - 1].name;
  const side = new DataSource({ type: 'sqlite', database: file });
  await side.initialize();
  try {
    const [row] = await side.query('SELECT id, timestamp, name FROM migrations WHERE name = ?', [last]);
    await side.query('DELETE FROM migrations WHERE id = ?', [row.id]);
    expect(await probe(server, 'readyz')).toEqual({ status: 503, body: { status: 'not ready', database: true, events: true, migrations: 'pending' } });
    expect((await probe(server, 'healthz')).status).toBe(200);
    await side.query('INSERT INTO migrations (id, timestamp, name) VALUES (?, ?, ?)', [row.id, row.timestamp, row.name]);
    expect((await probe(server, 'readyz')).status).toBe(200);
  } finally {
    await side.destroy();
    await server.stop();
  }
});

test('a server started on a database with pending migrations applies them before it serves', async () => {
  const file = path.join(dir, 'pending.sqlite');
  await partlyMigrated(file);
  expect(await appliedMigrations(file)).toEqual([MIGRATIONS.sqlite[0].name]);
  const server = await startTestServer({ instances: 1, env: sqliteEnv(file) });
  try {
    expect(await appliedMigrations(file)).toEqual(MIGRATIONS.sqlite.map((migration) => migration.name));
    expect(await server.instances[0].services.db.pendingMigrations()).toBe(false);
    expect((await probe(server, 'readyz')).body).toMatchObject({ migrations: 'applied' });
  } finally {
    await server.stop();
  }
});

test('opened without migrating, a database with pending migrations is refused with the command to run', async () => {
  const file = path.join(dir, 'refused.sqlite');
  await partlyMigrated(file);
  await expect(Database.connect({ kind: 'sqlite', path: file }, { migrate: false })).rejects.toThrow(/pending migrations.*npm run migrate/);
  expect(await appliedMigrations(file)).toEqual([MIGRATIONS.sqlite[0].name]);
});

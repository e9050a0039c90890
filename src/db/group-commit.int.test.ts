/**
 * The SQLite group commit on a real database file (docs/operations.md §1): units that arrive together share one
 * transaction, each in its own savepoint; a failing unit loses only its own work; callers are answered after the
 * COMMIT; commit callbacks run only for committed work, rollback callbacks only for undone work.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from './database';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
  db = await Database.connect({ kind: 'sqlite', path: path.join(dir, 'ledger.sqlite') }, { migrate: true });
  await db.transaction((tx) => tx.query("INSERT INTO practices (id, created_at) VALUES ('p', '2026-01-01T00:00:00.000Z')"));
});

afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const insertPractice = (id: string) => (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) =>
  tx.query('INSERT INTO practices (id, created_at) VALUES (?, ?)', [id, '2026-01-01T00:00:00.000Z']);

async function practices(): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM practices ORDER BY id')).map((r) => r.id);
}

test('units submitted together share transactions: fewer commits than units, every unit kept', async () => {
  const before = { ...db.groupCommitStats! };
  const ids = Array.from({ length: 50 }, (_, i) => `u${String(i).padStart(2, '0')}`);
  await Promise.all(ids.map((id) => db.transaction(insertPractice(id))));
  const stats = db.groupCommitStats!;
  expect(stats.units - before.units).toBe(50);
  // All fifty arrived before the first BEGIN completed: one transaction holds them.
  expect(stats.commits - before.commits).toBe(1);
  expect(await practices()).toEqual(['p', ...ids]);
});

test('a failing unit rolls back its own savepoint only, and its caller gets its error', async () => {
  const results = await Promise.allSettled([
    db.transaction(insertPractice('a')),
    db.transaction(async (tx) => {
      await insertPractice('b')(tx);
      throw new Error('refused after writing');
    }),
    db.transaction(insertPractice('p')), // primary key violation
    db.transaction(insertPractice('c')),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason.message).toBe('refused after writing');
  expect(await practices()).toEqual(['a', 'c', 'p']);
});

test('a caller is answered only once its unit is committed: the reader connection already sees it', async () => {
  const seen = await Promise.all(
    ['x1', 'x2', 'x3'].map(async (id) => {
      await db.transaction(insertPractice(id));
      return (await db.query('SELECT id FROM practices WHERE id = ?', [id])).length;
    }),
  );
  expect(seen).toEqual([1, 1, 1]);
});

test('commit callbacks run after the commit and before the answer; rollback callbacks only for undone units', async () => {
  const events: string[] = [];
  const unit = (id: string, fail: boolean) =>
    db
      .transaction(async (tx) => {
        tx.afterCommit(() => events.push(`committed ${id}`));
        tx.afterRollback(() => events.push(`undone ${id}`));
        await insertPractice(id)(tx);
        if (fail) throw new Error('no');
      })
      .then(
        () => events.push(`answered ${id}`),
        () => events.push(`failed ${id}`),
      );
  await Promise.all([unit('k1', false), unit('k2', true), unit('k3', false)]);
  expect(events.filter((e) => e.endsWith('k2'))).toEqual(['undone k2', 'failed k2']);
  for (const id of ['k1', 'k3']) {
    expect(events.filter((e) => e.endsWith(id))).toEqual([`committed ${id}`, `answered ${id}`]);
  }
});

test('when the shared COMMIT cannot happen, every unit of that transaction fails and nothing of it is kept', async () => {
  const events: string[] = [];
  // A unit that breaks the transaction itself (its savepoint gone) takes the whole transaction down with it.
  const results = await Promise.allSettled([
    db.transaction(async (tx) => {
      tx.afterRollback(() => events.push('undone y1'));
      tx.afterCommit(() => events.push('committed y1'));
      await insertPractice('y1')(tx);
    }),
    db.transaction(async (tx) => {
      await tx.query('RELEASE unit');
      await insertPractice('y2')(tx);
    }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(events).toEqual(['undone y1']);
  expect(await practices()).toEqual(['p']);
  // The writer keeps serving.
  await db.transaction(insertPractice('z'));
  expect(await practices()).toContain('z');
});

test('a unit submitted the moment the previous caller is answered still runs (none is stranded between transactions)', async () => {
  for (let i = 0; i < 20; i++) await db.transaction(insertPractice(`s${String(i).padStart(2, '0')}`));
  expect((await practices()).length).toBe(21);
}, 10_000);

/**
 * The migrations build exactly the tables the entities describe, on whichever database the suite runs against; the
 * StoredAmounts migration fills the derived amounts of an existing database from its fact rows; and the append-only
 * triggers refuse any change of a fact while letting the derived amounts be kept current (docs/design.md §2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import type { Config } from '../../src/config';
import { dataSourceOptions } from '../../src/db/data-source';
import { ENTITIES } from '../../src/entities';
import { Database } from '../../src/db/database';
import { MIGRATIONS } from '../../src/db/migrations';
import { APPEND_ONLY_TABLES, DERIVED_COLUMNS } from '../../src/db/migrations/append-only';
import { pendingSchemaChanges } from '../../src/db/schema-diff';
import { LedgerReader } from '../../src/read-model/ledger-reader';
import { createScratchDatabase, ScratchDatabase } from '../scratch-postgres';

test('on an empty database, after the migrations run, the entities need no further schema change', async () => {
  const postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_migrations') : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-migrations-'));
  try {
    const db = await Database.connect(postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', path: path.join(dir, 'fresh.sqlite') }, { migrate: true, entities: ENTITIES });
    try {
      expect(await db.pendingMigrations()).toBe(false);
      expect(await db.schemaDrift()).toEqual([]);
    } finally {
      await db.close();
    }
  } finally {
    await postgres?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('StoredAmounts: derived amounts beside the facts', () => {
  const PRACTICE = 'practice-migrated';
  const PATIENT = 'patient-1';
  let postgres: ScratchDatabase | null = null;
  let dir: string;
  let database: Config['database'];
  let current: DataSource;

  const positional = (sql: string) => {
    let n = 0;
    return database.kind === 'postgres' ? sql.replace(/\?/g, () => `$${++n}`) : sql;
  };
  const run = (sql: string, params: unknown[] = []) => current.query(positional(sql), params);

  /** A row of `table`, with the columns every ledger row has filled in. */
  function insert(dataSource: DataSource, table: string, row: Record<string, string | number | null>) {
    const full = { practice_id: PRACTICE, patient_id: PATIENT, created_at: '2026-01-01T00:00:00.000Z', ...row };
    const columns = Object.keys(full);
    return dataSource.query(positional(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`), Object.values(full));
  }

  /**
   * One patient's ledger written at the migration before StoredAmounts: $100 remittance line L1, a cancelled $30
   * estimate L2, a $50 staff line L3. P1 ($80 card) put $60 on L1 and $10 on L3, then refunded $15 to the card
   * ($10 unallocated, $5 off L3) and moved $20 to credit ($5 off L3, $15 off L1). P2 ($30 copay) paid L2 in full and
   * was released when L2 was cancelled. Write-offs: $20 on L1 less a $5 removal, $10 on L3, $7 on L3 fully removed.
   */
  async function writeOldLedger(old: DataSource) {
    const line = (id: string, sequence: number, origin: string, status: string, amount: number) =>
      insert(old, 'responsibilities', { id, sequence, charge_id: 'charge-1', kind: 'OTHER', origin, status, amount_cents: amount, created_by: 'staff' });
    await line('L1', 1, 'REMITTANCE', 'ACTIVE', 10000);
    await line('L2', 2, 'ESTIMATED', 'CANCELLED', 3000);
    await line('L3', 3, 'STAFF', 'ACTIVE', 5000);
    const payment = (id: string, sequence: number, amount: number, method: string, purpose: string) =>
      insert(old, 'payments', { id, sequence, amount_cents: amount, method, purpose, received_at: '2026-01-02T00:00:00.000Z', created_by: 'staff' });
    await payment('P1', 10, 8000, 'CARD', 'BALANCE');
    await payment('P2', 11, 3000, 'CASH', 'COPAY');
    const allocation = (id: string, sequence: number, paymentId: string, lineId: string, amount: number) =>
      insert(old, 'allocations', { id, sequence, payment_id: paymentId, responsibility_id: lineId, amount_cents: amount, source: 'PAYMENT' });
    await allocation('A1', 12, 'P1', 'L1', 6000);
    await allocation('A2', 13, 'P1', 'L3', 1000);
    await allocation('A3', 14, 'P2', 'L2', 3000);
    const refund = (id: string, sequence: number, amount: number, returned: number, method: string) =>
      insert(old, 'refunds', { id, sequence, payment_id: 'P1', amount_cents: amount, returned_cents: returned, method, reason: 'asked', created_by: 'staff' });
    await refund('R1', 20, 1500, 1500, 'ORIGINAL_CARD');
    await refund('R2', 21, 2000, 0, 'ACCOUNT_CREDIT');
    const reduction = (id: string, sequence: number, allocationId: string, paymentId: string, lineId: string, amount: number, cause: string, refundId: string | null) =>
      insert(old, 'allocation_reductions', { id, sequence, allocation_id: allocationId, payment_id: paymentId, responsibility_id: lineId, amount_cents: amount, cause, refund_id: refundId });
    await reduction('X1', 22, 'A2', 'P1', 'L3', 500, 'REFUND', 'R1');
    await reduction('X2', 23, 'A2', 'P1', 'L3', 500, 'ACCOUNT_CREDIT', 'R2');
    await reduction('X3', 24, 'A1', 'P1', 'L1', 1500, 'ACCOUNT_CREDIT', 'R2');
    await reduction('X4', 25, 'A3', 'P2', 'L2', 3000, 'CANCELLATION', null);
    const writeOff = (id: string, sequence: number, lineId: string, amount: number) =>
      insert(old, 'write_offs', { id, sequence, responsibility_id: lineId, amount_cents: amount, reason: 'SMALL_BALANCE', created_by: 'staff' });
    await writeOff('W1', 30, 'L1', 2000);
    await writeOff('W2', 31, 'L3', 1000);
    await writeOff('W3', 32, 'L3', 700);
    const reversal = (id: string, sequence: number, writeOffId: string, lineId: string, amount: number) =>
      insert(old, 'write_off_reversals', { id, sequence, write_off_id: writeOffId, responsibility_id: lineId, amount_cents: amount, reason: 'posted in error', created_by: 'staff' });
    await reversal('V1', 33, 'W1', 'L1', 500);
    await reversal('V2', 34, 'W3', 'L3', 700);
  }

  beforeAll(async () => {
    postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase('ledger_stored_amounts') : null;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-stored-amounts-'));
    database = postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', path: path.join(dir, 'upgrade.sqlite') };
    const all = MIGRATIONS[database.kind];
    const old = new DataSource({ ...dataSourceOptions(database, 'writer', ENTITIES), migrations: all.slice(0, all.findIndex((m) => m.name.startsWith('StoredAmounts'))) });
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
    await writeOldLedger(old);
    await old.destroy();
    current = new DataSource(dataSourceOptions(database, 'writer', ENTITIES));
    await current.initialize();
    await current.runMigrations({ transaction: 'each' });
  });
  afterAll(async () => {
    await current?.destroy();
    await postgres?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an upgraded database matches the entities', async () => {
    expect(await current.showMigrations()).toBe(false);
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
  });

  test('the migration fills every derived amount from the fact rows', async () => {
    const amounts = async (table: string, columns: string) =>
      (await run(`SELECT id, ${columns} FROM ${table} ORDER BY id`)).map((r: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'id' ? v : Number(v)])),
      );
    expect(await amounts('responsibilities', 'paid_cents, written_off_cents')).toEqual([
      { id: 'L1', paid_cents: 4500, written_off_cents: 1500 },
      { id: 'L2', paid_cents: 0, written_off_cents: 0 },
      { id: 'L3', paid_cents: 0, written_off_cents: 1000 },
    ]);
    expect(await amounts('allocations', 'remaining_cents')).toEqual([
      { id: 'A1', remaining_cents: 4500 },
      { id: 'A2', remaining_cents: 0 },
      { id: 'A3', remaining_cents: 0 },
    ]);
    expect(await amounts('payments', 'allocated_cents, refunded_cents')).toEqual([
      { id: 'P1', allocated_cents: 4500, refunded_cents: 1500 },
      { id: 'P2', allocated_cents: 0, refunded_cents: 0 },
    ]);
    expect(await amounts('write_offs', 'active_cents')).toEqual([
      { id: 'W1', active_cents: 1500 },
      { id: 'W2', active_cents: 1000 },
      { id: 'W3', active_cents: 0 },
    ]);
  });

  test('the read model shows the stored amounts: lines, write-offs, and payments with their credit', async () => {
    const reader = new LedgerReader({ query: (sql, params) => run(sql, params) });
    const lines = await reader.linesOfCharges(PRACTICE, ['charge-1']);
    expect(lines.map((l) => [l.id, l.paidCents, l.writtenOffCents])).toEqual([
      ['L1', 4500, 1500],
      ['L2', 0, 0],
      ['L3', 0, 1000],
    ]);
    expect((await reader.writeOffsOfLines(PRACTICE, ['L1', 'L3'])).map((w) => [w.id, w.activeCents])).toEqual([
      ['W1', 1500],
      ['W2', 1000],
      ['W3', 0],
    ]);
    const payments = await reader.payments(PRACTICE, ['P1', 'P2']);
    const byId = Object.fromEntries(payments.map((p) => [p.id, p]));
    expect(byId.P1).toMatchObject({ amountCents: 8000, allocatedCents: 4500, refundedCents: 1500, unallocatedCents: 2000 });
    expect(byId.P1.allocations).toEqual([{ paymentId: 'P1', responsibilityId: 'L1', amountCents: 4500 }]);
    expect(byId.P2).toMatchObject({ amountCents: 3000, allocatedCents: 0, refundedCents: 0, unallocatedCents: 3000, allocations: [] });
  });

  describe('append-only rows: facts refuse UPDATE, derived amounts take it, nothing is deleted', () => {
    const REFUSED = /append-only|not allowed|never deleted/;
    const rowOf: Record<string, string> = { payments: 'P1', allocations: 'A1', write_offs: 'W1' };
    const factColumnsOf = (table: string) =>
      current.entityMetadatas
        .find((m) => m.tableName === table)!
        .columns.map((c) => c.databaseName)
        .filter((name) => !DERIVED_COLUMNS[table].includes(name));

    test.each(Object.keys(DERIVED_COLUMNS))('%s', async (table) => {
      expect(APPEND_ONLY_TABLES).toContain(table);
      const id = rowOf[table];
      const facts = factColumnsOf(table);
      expect(facts).toEqual(expect.arrayContaining(['id', 'amount_cents', 'sequence', 'created_at']));
      for (const column of facts) {
        await expect(run(`UPDATE ${table} SET ${column} = ${column} WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      }
      for (const column of DERIVED_COLUMNS[table]) {
        await run(`UPDATE ${table} SET ${column} = ${column} + 1 WHERE id = ?`, [id]);
        await run(`UPDATE ${table} SET ${column} = ${column} - 1 WHERE id = ?`, [id]);
      }
      // A statement naming a fact beside a derived amount is refused as a whole.
      await expect(run(`UPDATE ${table} SET ${DERIVED_COLUMNS[table][0]} = 0, amount_cents = amount_cents WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      await expect(run(`DELETE FROM ${table} WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      if (database.kind === 'postgres') await expect(run(`TRUNCATE ${table}`)).rejects.toThrow(REFUSED);
      const [row] = await run(`SELECT ${DERIVED_COLUMNS[table].join(', ')} FROM ${table} WHERE id = ?`, [id]);
      expect(Object.values(row).map(Number).every((cents) => cents >= 0)).toBe(true);
    });

    test('PR lines take their derived amounts and are never deleted', async () => {
      await run('UPDATE responsibilities SET paid_cents = paid_cents, written_off_cents = written_off_cents WHERE id = ?', ['L1']);
      await expect(run('DELETE FROM responsibilities WHERE id = ?', ['L1'])).rejects.toThrow(REFUSED);
    });

    test('the other append-only tables still refuse every UPDATE', async () => {
      await expect(run('UPDATE refunds SET reason = reason WHERE id = ?', ['R1'])).rejects.toThrow(REFUSED);
      await expect(run('UPDATE allocation_reductions SET cause = cause WHERE id = ?', ['X1'])).rejects.toThrow(REFUSED);
      await expect(run('UPDATE write_off_reversals SET reason = reason WHERE id = ?', ['V1'])).rejects.toThrow(REFUSED);
    });
  });

  test('undone, the migration restores the earlier schema and triggers; redone, it fills the amounts again', async () => {
    const StoredAmounts = MIGRATIONS[database.kind].find((m) => m.name.startsWith('StoredAmounts'))!;
    const runner = current.createQueryRunner();
    try {
      await new StoredAmounts().down(runner);
      expect((await runner.getTable('payments'))!.columns.map((c) => c.name)).not.toContain('allocated_cents');
      await expect(runner.query(positional('UPDATE payments SET method = method WHERE id = ?'), ['P1'])).rejects.toThrow(/append-only/);
      await new StoredAmounts().up(runner);
    } finally {
      await runner.release();
    }
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
    const [payment] = await run('SELECT allocated_cents, refunded_cents FROM payments WHERE id = ?', ['P1']);
    expect([Number(payment.allocated_cents), Number(payment.refunded_cents)]).toEqual([4500, 1500]);
    await run('UPDATE payments SET allocated_cents = allocated_cents WHERE id = ?', ['P1']);
  });
});

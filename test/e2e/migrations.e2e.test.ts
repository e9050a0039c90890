/**
 * The migrations build exactly the tables the entities describe, on whichever database the suite runs against; the
 * StoredAmounts migration fills the derived amounts of an existing database from its fact rows; and the append-only
 * triggers refuse any change of a fact while letting the derived amounts be kept current (docs/design.md §2). The
 * Posting migration's tables and columns, their triggers, and the read model over them (docs/design.md §8).
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
import { chargeOpenCents, LedgerReader } from '../../src/read-model/ledger-reader';
import { BalanceHistory } from '../../src/ledger-store/balance-history';
import { createScratchDatabase } from '../scratch-postgres';

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

interface Upgraded {
  current: DataSource;
  close(): Promise<void>;
}

/**
 * How each upgrade below is tested: a scratch database (PostgreSQL under TEST_DB=postgres, else a SQLite file) migrated
 * up to just before `migration`, `writeOld` run on it, then migrated to now.
 */
async function upgradeAcross(migration: string, name: string, writeOld: (old: DataSource, database: Config['database']) => Promise<void>): Promise<Upgraded> {
  const postgres = process.env.TEST_DB === 'postgres' ? await createScratchDatabase(`ledger_${name.replace(/-/g, '_')}`) : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ledger-${name}-`));
  const database: Config['database'] = postgres ? { kind: 'postgres', url: postgres.url } : { kind: 'sqlite', path: path.join(dir, 'upgrade.sqlite') };
  const all = MIGRATIONS[database.kind];
  const old = new DataSource({ ...dataSourceOptions(database, 'writer', ENTITIES), migrations: all.slice(0, all.findIndex((m) => m.name.startsWith(migration))) });
  await old.initialize();
  await old.runMigrations({ transaction: 'each' });
  await writeOld(old, database);
  await old.destroy();
  const current = new DataSource(dataSourceOptions(database, 'writer', ENTITIES));
  await current.initialize();
  await current.runMigrations({ transaction: 'each' });
  return {
    current,
    close: async () => {
      await current.destroy();
      await postgres?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('StoredAmounts: derived amounts beside the facts', () => {
  const PRACTICE = 'practice-migrated';
  const PATIENT = 'patient-1';
  let upgraded: Upgraded | undefined;
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
    upgraded = await upgradeAcross('StoredAmounts', 'stored-amounts', async (old, upgrading) => {
      database = upgrading;
      await writeOldLedger(old);
    });
    current = upgraded.current;
  });
  afterAll(() => upgraded?.close());

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
        if (!column.endsWith('_cents')) {
          await run(`UPDATE ${table} SET ${column} = ${column} WHERE id = ?`, [id]);
          continue;
        }
        await run(`UPDATE ${table} SET ${column} = ${column} + 1 WHERE id = ?`, [id]);
        await run(`UPDATE ${table} SET ${column} = ${column} - 1 WHERE id = ?`, [id]);
      }
      // A statement naming a fact beside a derived amount is refused as a whole.
      await expect(run(`UPDATE ${table} SET ${DERIVED_COLUMNS[table][0]} = 0, amount_cents = amount_cents WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      await expect(run(`DELETE FROM ${table} WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      if (database.kind === 'postgres') await expect(run(`TRUNCATE ${table}`)).rejects.toThrow(REFUSED);
      const [row] = await run(`SELECT ${DERIVED_COLUMNS[table].filter((c) => c.endsWith('_cents')).join(', ')} FROM ${table} WHERE id = ?`, [id]);
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

describe('Posting: batches and entries, voids, reversals, claim numbers (docs/design.md §8)', () => {
  const PRACTICE = 'practice-posting';
  const PATIENT = 'patient-1';
  const REFUSED = /append-only|not allowed|never deleted/;
  let upgraded: Upgraded | undefined;
  let kind: Config['database']['kind'];
  let current: DataSource;

  const on = (dataSource: DataSource, sql: string, params: unknown[] = []) => {
    let n = 0;
    return dataSource.query(kind === 'postgres' ? sql.replace(/\?/g, () => `$${++n}`) : sql, params);
  };
  const run = (sql: string, params: unknown[] = []) => on(current, sql, params);
  /** A row of `table` of the practice; `fact` adds the patient every ledger row has. */
  const insert = (dataSource: DataSource, table: string, row: Record<string, string | number | null>) => {
    const full = { practice_id: PRACTICE, created_at: '2026-01-01T00:00:00.000Z', ...row };
    const columns = Object.keys(full);
    return on(dataSource, `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(full));
  };
  const fact = (dataSource: DataSource, table: string, row: Record<string, string | number | null>) => insert(dataSource, table, { patient_id: PATIENT, ...row });
  const day = (n: number) => `2026-01-${String(n).padStart(2, '0')}T00:00:00.000Z`;
  const Posting = () => MIGRATIONS[kind].find((m) => m.name.startsWith('Posting'))!;

  /**
   * Charge C1 ($200) with a $60 remittance line L1 (remittance M1), a $40 staff line L2 and a $10 staff line L3, and
   * payment P1 ($50 cash) that paid $30 on L1: written at the migration before Posting.
   */
  async function writeOldLedger(old: DataSource) {
    await fact(old, 'charges', { id: 'C1', sequence: 100000, service_date: '2026-01-01', procedure_code: '99213', billed_cents: 20000, created_by: 'staff' });
    await fact(old, 'remittances', { id: 'M1', sequence: 200000, charge_id: 'C1', external_id: 'ERA-1', adjustments: '[]', created_at: day(2), created_by: 'biller' });
    const line = (id: string, sequence: number, origin: string, amount: number, at: string) =>
      fact(old, 'responsibilities', { id, sequence, charge_id: 'C1', kind: 'OTHER', origin, status: 'ACTIVE', amount_cents: amount, created_at: at, created_by: 'staff' });
    await line('L1', 200001, 'REMITTANCE', 6000, day(2));
    await line('L2', 300001, 'STAFF', 4000, day(3));
    await line('L3', 300002, 'STAFF', 1000, day(3));
    await fact(old, 'payments', { id: 'P1', sequence: 400000, amount_cents: 5000, method: 'CASH', purpose: 'BALANCE', received_at: day(4), created_at: day(4), created_by: 'front' });
    await fact(old, 'allocations', { id: 'A1', sequence: 400001, payment_id: 'P1', responsibility_id: 'L1', amount_cents: 3000, source: 'PAYMENT', created_at: day(4) });
  }

  /**
   * What posting adds, as the ledger writer would store it: P2 ($25 check, batch B1) paid $10 on L2; L3 cancelled; M1
   * reversed (L1 REVERSED, P1's $30 released); P1's credit applied to L2 ($30), $10 of it returned by a negation; P2
   * voided; a write-off of $5 on L2 from batch B2. Batches B1..B6 of the practice and BX of another.
   */
  async function writePosting() {
    await fact(current, 'charges', {
      id: 'C2', sequence: 100001, service_date: '2026-01-01', procedure_code: '99214', billed_cents: 100, claim_number: 'CLM-1', line_control_number: 'LC-1', created_by: 'staff',
    });
    await fact(current, 'payments', {
      id: 'P2', sequence: 500000, amount_cents: 2500, method: 'CHECK', purpose: 'BALANCE', received_at: day(5), batch_id: 'B1', created_at: day(5), created_by: 'front',
    });
    await fact(current, 'allocations', { id: 'A3', sequence: 500001, payment_id: 'P2', responsibility_id: 'L2', amount_cents: 1000, source: 'PAYMENT', created_at: day(5) });
    await run("UPDATE responsibilities SET status = 'CANCELLED', cancelled_at = ?, cancelled_by = 'staff', cancel_reason = 'entered twice' WHERE id = 'L3'", [day(6)]);
    await fact(current, 'remittance_reversals', { id: 'RR1', sequence: 700000, charge_id: 'C1', remittance_record_id: 'M1', reason: 'payer reversed the claim', created_at: day(7), created_by: 'biller' });
    await run("UPDATE responsibilities SET status = 'REVERSED', cancelled_at = ?, cancelled_by = 'biller', cancel_reason = 'payer reversed the claim' WHERE id = 'L1'", [day(7)]);
    const reduction = (id: string, sequence: number, allocationId: string, paymentId: string, lineId: string, amount: number, cause: string, at: string) =>
      fact(current, 'allocation_reductions', { id, sequence, allocation_id: allocationId, payment_id: paymentId, responsibility_id: lineId, amount_cents: amount, cause, created_at: at });
    await reduction('X1', 700001, 'A1', 'P1', 'L1', 3000, 'REVERSAL', day(7));
    await fact(current, 'allocations', { id: 'A2', sequence: 800001, payment_id: 'P1', responsibility_id: 'L2', amount_cents: 3000, source: 'CREDIT', created_at: day(8) });
    await reduction('X3', 900001, 'A3', 'P2', 'L2', 1000, 'VOID', day(9));
    await fact(current, 'payment_voids', { id: 'V1', sequence: 900002, payment_id: 'P2', amount_cents: 2500, reason: 'check bounced', created_at: day(9), created_by: 'manager' });
    await reduction('X2', 1000001, 'A2', 'P1', 'L2', 1000, 'CREDIT_RETURNED', day(10));
    await fact(current, 'write_offs', { id: 'W1', sequence: 1100001, responsibility_id: 'L2', amount_cents: 500, reason: 'SMALL_BALANCE', batch_id: 'B2', created_at: day(11), created_by: 'biller' });
    // The derived amounts the writer keeps: the void's are updatable like the others.
    await run('UPDATE allocations SET remaining_cents = ? WHERE id = ?', [0, 'A1']);
    await run('UPDATE allocations SET remaining_cents = ? WHERE id = ?', [2000, 'A2']);
    await run('UPDATE allocations SET remaining_cents = ? WHERE id = ?', [0, 'A3']);
    await run('UPDATE payments SET allocated_cents = ?, refunded_cents = 0 WHERE id = ?', [2000, 'P1']);
    await run('UPDATE payments SET allocated_cents = 0, voided_cents = ?, voided_at = ? WHERE id = ?', [2500, day(9), 'P2']);
    await run('UPDATE responsibilities SET paid_cents = ?, written_off_cents = ? WHERE id = ?', [2000, 500, 'L2']);
    await run('UPDATE write_offs SET active_cents = ? WHERE id = ?', [500, 'W1']);

    const batch = (id: string, batchKind: string, status: string, at: string, more: Record<string, string | number | null> = {}) =>
      insert(current, 'posting_batches', { id, kind: batchKind, status, reference: `ref-${id}`, created_at: at, created_by: 'front', created_role: 'FRONT_DESK', ...more });
    const posted = { posted_at: '2026-02-10T00:00:00.000Z', posted_by: 'manager', posted_role: 'BILLING_MANAGER' };
    await batch('B1', 'DEPOSIT', 'POSTED', '2026-02-01T09:00:00.000Z', { ...posted, payment_total_cents: 2500 });
    await batch('B2', 'ADJUSTMENT', 'POSTED', '2026-02-02T09:00:00.000Z', posted);
    await batch('B3', 'REMITTANCE', 'DRAFT', '2026-02-03T09:00:00.000Z', {
      payer_name: 'Acme Health',
      deposit_date: '2026-02-03',
      expected_total_cents: 12345,
      issues: JSON.stringify([
        { code: 'CLAIM_NOT_FOUND', message: 'No charge has claim number CLM-9.', claimNumber: 'CLM-9', payerClaimNumber: 'PCN-1', segment: 42 },
        { code: 'UNBALANCED', message: 'The claims do not add up to the payment.' },
      ]),
    });
    await batch('B4', 'DEPOSIT', 'DRAFT', '2026-02-03T09:00:00.000Z', { expected_total_cents: 0 });
    await batch('B6', 'DEPOSIT', 'POSTED', '2026-02-04T09:00:00.000Z', { ...posted, negates_id: 'B1' });
    await run("UPDATE posting_batches SET status = 'NEGATED', negated_by_id = 'B6' WHERE id = 'B1'");
    await batch('BX', 'DEPOSIT', 'DRAFT', '2026-02-05T09:00:00.000Z', { practice_id: 'practice-other' });

    const entry = (id: string, batchId: string, position: number, entryKind: string, amount: number, more: Record<string, string | number | null> = {}) =>
      insert(current, 'posting_entries', { id, batch_id: batchId, position, kind: entryKind, patient_id: PATIENT, input: '{}', amount_cents: amount, ...more });
    await entry('E1', 'B1', 0, 'PAYMENT', 2500, { payment_id: 'P2', created_ids: '["P2","A3"]' });
    await entry('E2', 'B4', 0, 'PAYMENT', 1000);
    await entry('E3', 'B4', 1, 'PAYMENT', 2000);
    await entry('E4', 'B4', 2, 'APPLY_CREDIT', 300, { charge_id: 'C1' });
    await entry('E5', 'B4', 10, 'WRITE_OFF', 400, { responsibility_id: 'L2', write_off_id: null });
    await entry('EX', 'BX', 0, 'PAYMENT', 100, { practice_id: 'practice-other' });
  }

  beforeAll(async () => {
    upgraded = await upgradeAcross('Posting', 'posting', async (old, database) => {
      kind = database.kind;
      await writeOldLedger(old);
    });
    current = upgraded.current;
    await writePosting();
  });
  afterAll(() => upgraded?.close());

  test('an upgraded database matches the entities, and rows from before have no claim numbers and no void', async () => {
    expect(await current.showMigrations()).toBe(false);
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
    const [charge] = await run("SELECT claim_number, line_control_number FROM charges WHERE id = 'C1'");
    expect(charge).toEqual({ claim_number: null, line_control_number: null });
    const [payment] = await run("SELECT voided_cents, voided_at FROM payments WHERE id = 'P1'");
    expect([Number(payment.voided_cents), payment.voided_at]).toEqual([0, null]);
  });

  describe('triggers', () => {
    const columnsOf = (table: string) => current.entityMetadatas.find((m) => m.tableName === table)!.columns.map((c) => c.databaseName);

    test.each([
      ['payment_voids', 'V1'],
      ['remittance_reversals', 'RR1'],
    ])('%s rows are append-only: every column refuses UPDATE, and DELETE is refused', async (table, id) => {
      expect(APPEND_ONLY_TABLES).toContain(table);
      for (const column of columnsOf(table)) {
        await expect(run(`UPDATE ${table} SET ${column} = ${column} WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      }
      await expect(run(`DELETE FROM ${table} WHERE id = ?`, [id])).rejects.toThrow(REFUSED);
      if (kind === 'postgres') await expect(run(`TRUNCATE ${table}`)).rejects.toThrow(REFUSED);
      expect(await run(`SELECT id FROM ${table}`)).toEqual([{ id }]);
    });

    test("charges still refuse every UPDATE: the claim and line control numbers are facts", async () => {
      for (const column of ['claim_number', 'line_control_number', 'billed_cents']) {
        await expect(run(`UPDATE charges SET ${column} = ${column} WHERE id = 'C2'`)).rejects.toThrow(REFUSED);
      }
      await expect(run("DELETE FROM charges WHERE id = 'C2'")).rejects.toThrow(REFUSED);
    });

    test("payments' void is derived: updatable beside the other derived amounts, while the facts stay refused", async () => {
      await run("UPDATE payments SET voided_cents = voided_cents, voided_at = voided_at WHERE id = 'P2'");
      for (const column of columnsOf('payments').filter((c) => !DERIVED_COLUMNS.payments.includes(c))) {
        await expect(run(`UPDATE payments SET ${column} = ${column} WHERE id = 'P2'`)).rejects.toThrow(REFUSED);
      }
      await expect(run("UPDATE payments SET voided_at = voided_at, batch_id = batch_id WHERE id = 'P2'")).rejects.toThrow(REFUSED);
    });

    test('posting batches are updated but never deleted', async () => {
      await run("UPDATE posting_batches SET payment_total_cents = 7, reference = reference WHERE id = 'B4'");
      await run("UPDATE posting_batches SET payment_total_cents = 0 WHERE id = 'B4'");
      await expect(run("DELETE FROM posting_batches WHERE id = 'B4'")).rejects.toThrow(REFUSED);
    });

    test("a draft's entries are edited and deleted; a posted or negated batch's entries are never deleted", async () => {
      await insert(current, 'posting_entries', { id: 'E-removed', batch_id: 'B4', position: 3, kind: 'PAYMENT', patient_id: PATIENT, input: '{}', amount_cents: 1 });
      await run("UPDATE posting_entries SET amount_cents = 2 WHERE id = 'E-removed'");
      await run("DELETE FROM posting_entries WHERE id = 'E-removed'");
      await expect(run("DELETE FROM posting_entries WHERE id = 'E1'")).rejects.toThrow(REFUSED);
      await run("UPDATE posting_entries SET created_ids = created_ids WHERE id = 'E1'");
      expect((await run("SELECT id FROM posting_entries WHERE id IN ('E1', 'E-removed')")).map((r: Record<string, unknown>) => r.id)).toEqual(['E1']);
    });
  });

  describe('the read model', () => {
    let reader: LedgerReader;
    beforeAll(() => {
      reader = new LedgerReader({ query: (sql, params) => run(sql, params) });
    });

    test('batches by id, with their issues, only of the practice', async () => {
      const batches = await reader.batches(PRACTICE, ['B3', 'B1', 'BX', 'missing']);
      const byId = Object.fromEntries(batches.map((b) => [b.id, b]));
      expect(Object.keys(byId).sort()).toEqual(['B1', 'B3']);
      expect(byId.B3).toEqual({
        id: 'B3',
        kind: 'REMITTANCE',
        status: 'DRAFT',
        reference: 'ref-B3',
        payerName: 'Acme Health',
        depositDate: '2026-02-03',
        expectedTotalCents: 12345,
        paymentTotalCents: 0,
        issues: [
          { code: 'CLAIM_NOT_FOUND', message: 'No charge has claim number CLM-9.', claimNumber: 'CLM-9', payerClaimNumber: 'PCN-1', segment: 42 },
          { code: 'UNBALANCED', message: 'The claims do not add up to the payment.', claimNumber: null, payerClaimNumber: null, segment: null },
        ],
        createdAt: '2026-02-03T09:00:00.000Z',
        createdBy: 'front',
        createdRole: 'FRONT_DESK',
        postedAt: null,
        postedBy: null,
        postedRole: null,
        negatesId: null,
        negatedById: null,
      });
      expect(byId.B1).toMatchObject({
        status: 'NEGATED',
        expectedTotalCents: null,
        paymentTotalCents: 2500,
        issues: [],
        postedBy: 'manager',
        postedRole: 'BILLING_MANAGER',
        negatedById: 'B6',
      });
      expect((await reader.batches(PRACTICE, ['B6']))[0]).toMatchObject({ negatesId: 'B1', negatedById: null });
      expect((await reader.batches(PRACTICE, ['B4']))[0].expectedTotalCents).toBe(0);
    });

    test('listBatches: newest first (created_at, then id), paged by a keyset, filtered by status and kind', async () => {
      const ids = (page: { rows: { id: string }[]; hasNextPage: boolean }) => [page.rows.map((b) => b.id), page.hasNextPage];
      const cursor = (b: { createdAt: string; id: string }) => [b.createdAt, b.id];
      const first = await reader.listBatches(PRACTICE, 2, null);
      expect(ids(first)).toEqual([['B6', 'B4'], true]);
      const second = await reader.listBatches(PRACTICE, 2, cursor(first.rows[1]));
      expect(ids(second)).toEqual([['B3', 'B2'], true]);
      expect(ids(await reader.listBatches(PRACTICE, 2, cursor(second.rows[1])))).toEqual([['B1'], false]);
      expect(ids(await reader.listBatches(PRACTICE, 10, null, { status: 'DRAFT' }))).toEqual([['B4', 'B3'], false]);
      expect(ids(await reader.listBatches(PRACTICE, 10, null, { kind: 'DEPOSIT' }))).toEqual([['B6', 'B4', 'B1'], false]);
      expect(ids(await reader.listBatches(PRACTICE, 10, null, { kind: 'DEPOSIT', status: 'DRAFT' }))).toEqual([['B4'], false]);
      expect(ids(await reader.listBatches(PRACTICE, 1, ['2026-02-03T09:00:00.000Z', 'B4'], { kind: 'DEPOSIT' }))).toEqual([['B1'], false]);
      expect(ids(await reader.listBatches(PRACTICE, 10, null, { status: 'NEGATED', kind: 'REMITTANCE' }))).toEqual([[], false]);
    });

    test('entries in batch order (position, gaps allowed), paged by (position, id)', async () => {
      const entriesOf = async (batchId: string) => (await reader.listEntries(PRACTICE, batchId, 100, null)).rows;
      const entries = [...(await entriesOf('B1')), ...(await entriesOf('B4')), ...(await entriesOf('BX'))];
      expect(entries.map((e) => [e.batchId, e.position, e.id])).toEqual([
        ['B1', 0, 'E1'],
        ['B4', 0, 'E2'],
        ['B4', 1, 'E3'],
        ['B4', 2, 'E4'],
        ['B4', 10, 'E5'],
      ]);
      expect(entries[0]).toEqual({
        id: 'E1', batchId: 'B1', position: 0, kind: 'PAYMENT', patientId: PATIENT, amountCents: 2500, chargeId: null, responsibilityId: null, paymentId: 'P2', writeOffId: null,
      });
      expect(entries[3]).toMatchObject({ kind: 'APPLY_CREDIT', chargeId: 'C1', amountCents: 300 });
      const first = await reader.listEntries(PRACTICE, 'B4', 3, null);
      expect([first.rows.map((e) => e.id), first.hasNextPage]).toEqual([['E2', 'E3', 'E4'], true]);
      const last = first.rows[2];
      const second = await reader.listEntries(PRACTICE, 'B4', 3, [String(last.position), last.id]);
      expect([second.rows.map((e) => e.id), second.hasNextPage]).toEqual([['E5'], false]);
      for (const position of ['2x', '-1', '99999999999']) expect(await reader.listEntries(PRACTICE, 'B4', 3, [position, 'E2'])).toEqual({ rows: [], hasNextPage: false });
      expect(await reader.listEntries(PRACTICE, 'BX', 3, null)).toEqual({ rows: [], hasNextPage: false });
      expect(await entriesOf('missing')).toEqual([]);
    });

    test('payments: the void, what is left as credit, the batch', async () => {
      const byId = Object.fromEntries((await reader.payments(PRACTICE, ['P1', 'P2'])).map((p) => [p.id, p]));
      expect(byId.P2).toMatchObject({ amountCents: 2500, allocatedCents: 0, refundedCents: 0, voidedCents: 2500, voidedAt: day(9), unallocatedCents: 0, batchId: 'B1', allocations: [] });
      expect(byId.P1).toMatchObject({ amountCents: 5000, allocatedCents: 2000, voidedCents: 0, voidedAt: null, unallocatedCents: 3000, batchId: null });
      expect(byId.P1.allocations).toEqual([{ paymentId: 'P1', responsibilityId: 'L2', amountCents: 2000 }]);
    });

    test('charges show their claim and line control numbers; write-offs their batch; a reversed line is out of the open amount', async () => {
      const charges = Object.fromEntries((await reader.charges(PRACTICE, ['C1', 'C2'])).map((c) => [c.id, c]));
      expect(charges.C2).toMatchObject({ claimNumber: 'CLM-1', lineControlNumber: 'LC-1' });
      expect(charges.C1).toMatchObject({ claimNumber: null, lineControlNumber: null });
      expect((await reader.writeOffs(PRACTICE, ['W1']))[0].batchId).toBe('B2');
      const lines = await reader.linesOfCharges(PRACTICE, ['C1']);
      expect(lines.map((l) => [l.id, l.status, l.cancelledBy, l.cancelReason])).toEqual([
        ['L1', 'REVERSED', 'biller', 'payer reversed the claim'],
        ['L2', 'ACTIVE', null, null],
        ['L3', 'CANCELLED', 'staff', 'entered twice'],
      ]);
      expect(chargeOpenCents(lines)).toBe(4000 - 2000 - 500);
    });

    test("the timeline tells the void, the reversal and its release, applied and returned credit, in ledger order", async () => {
      const entries = await reader.timelines(PRACTICE, ['C1']);
      expect(entries.map((e) => [e.kind, e.rowId, e.responsibilityId, e.amountCents, e.actorId, e.reason])).toEqual([
        ['CHARGE_CREATED', 'C1', null, 20000, 'staff', null],
        ['REMITTANCE', 'M1', null, null, 'biller', 'ERA-1'],
        ['PR_ADDED', 'L1', 'L1', 6000, 'staff', 'REMITTANCE'],
        ['PR_ADDED', 'L2', 'L2', 4000, 'staff', 'STAFF'],
        ['PR_ADDED', 'L3', 'L3', 1000, 'staff', 'STAFF'],
        ['PAYMENT', 'A1', 'L1', 3000, 'front', 'CASH'],
        ['PAYMENT', 'A3', 'L2', 1000, 'front', 'CHECK'],
        ['CANCELLATION', 'L3', 'L3', 1000, 'staff', 'entered twice'],
        ['PR_REVERSED', 'L1', 'L1', 6000, 'biller', 'payer reversed the claim'],
        ['PAYMENT_RELEASED', 'X1', 'L1', 3000, 'biller', 'payer reversed the claim'],
        ['CREDIT_APPLIED', 'A2', 'L2', 3000, 'front', 'CASH'],
        ['PAYMENT_VOIDED', 'X3', 'L2', 1000, 'manager', 'check bounced'],
        ['CREDIT_RETURNED', 'X2', 'L2', 1000, 'system', null],
        ['WRITE_OFF', 'W1', 'L2', 500, 'biller', 'SMALL_BALANCE'],
      ]);
      expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      expect(entries.find((e) => e.kind === 'PR_REVERSED')!.id).toBe('PR_REVERSED:L1');
    });
  });

  test('undone, the migration restores the earlier schema; redone, the entities match again', async () => {
    const runner = current.createQueryRunner();
    try {
      await new (Posting())().down(runner);
      for (const table of ['posting_batches', 'posting_entries', 'payment_voids', 'remittance_reversals']) expect(await runner.hasTable(table)).toBe(false);
      expect((await runner.getTable('payments'))!.columns.map((c) => c.name)).not.toContain('voided_cents');
      expect((await runner.getTable('charges'))!.columns.map((c) => c.name)).not.toContain('claim_number');
      await expect(run("UPDATE charges SET billed_cents = billed_cents WHERE id = 'C1'")).rejects.toThrow(REFUSED);
      await expect(run("UPDATE payments SET method = method WHERE id = 'P1'")).rejects.toThrow(REFUSED);
      await run("UPDATE payments SET allocated_cents = allocated_cents WHERE id = 'P1'");
      await new (Posting())().up(runner);
    } finally {
      await runner.release();
    }
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
    await run("UPDATE payments SET voided_cents = 0, voided_at = NULL WHERE id = 'P1'");
    await expect(run("UPDATE charges SET claim_number = 'x' WHERE id = 'C1'")).rejects.toThrow(REFUSED);
  });
});

describe('AuditEventVersions: the version each money mutation gave its patients (docs/design.md §8.5)', () => {
  const PRACTICE = 'practice-versions';
  const REFUSED = /append-only|not allowed|never deleted/;
  let upgraded: Upgraded | undefined;
  let kind: Config['database']['kind'];
  let current: DataSource;

  const on = (dataSource: DataSource, sql: string, params: unknown[] = []) => {
    let n = 0;
    return dataSource.query(kind === 'postgres' ? sql.replace(/\?/g, () => `$${++n}`) : sql, params);
  };
  const run = (sql: string, params: unknown[] = []) => on(current, sql, params);
  const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

  /**
   * The trail of two patients written before the migration: P is created, charged (1), named by a rule run and an
   * 835 import, written off (2), refused once and replayed once, posted with Q (3), listed by a read and a draft batch;
   * Q is created, paid (1), posted with P (2).
   */
  async function writeOldTrail(old: DataSource) {
    const event = async (id: string, minute: number, operation: string, outcome: string, code: string | null, patients: string[]) => {
      const row = { id, practice_id: PRACTICE, occurred_at: at(minute), operation, outcome, code, patient_id: patients.length === 1 ? patients[0] : null, entity_ids: '[]', actor_id: 'staff', actor_role: 'BILLING_MANAGER', request_id: `req-${id}`, client_request_id: null };
      const columns = Object.keys(row);
      await on(old, `INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
      for (const patientId of patients) {
        await on(old, 'INSERT INTO audit_event_patients (event_id, patient_id, practice_id, occurred_at) VALUES (?, ?, ?, ?)', [id, patientId, PRACTICE, at(minute)]);
      }
    };
    for (const [id, version] of [['P', 3], ['Q', 2]] as const) {
      const row = { id, practice_id: PRACTICE, first_name: 'Pat', last_name: id, version, responsibility_cents: 0, paid_cents: 0, written_off_cents: 0, outstanding_cents: 0, credit_cents: 0, balance_updated_at: at(11), created_at: at(1), created_by: 'staff' };
      const columns = Object.keys(row);
      await on(old, `INSERT INTO patients (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
    }
    await event('e01', 1, 'createPatient', 'ACCEPTED', null, ['P']);
    await event('e02', 2, 'createPatient', 'ACCEPTED', null, ['Q']);
    await event('e03', 3, 'createCharge', 'ACCEPTED', null, ['P']);
    await event('e04', 4, 'recordPayment', 'ACCEPTED', null, ['Q']);
    await event('e05', 5, 'runWriteOffRule', 'ACCEPTED', null, ['P', 'Q']);
    await event('e06', 6, 'importRemittanceFile', 'ACCEPTED', null, ['P']);
    await event('e07', 7, 'writeOff', 'ACCEPTED', null, ['P']);
    await event('e08', 8, 'writeOff', 'REFUSED', 'WRITE_OFF_EXCEEDS_OPEN', ['P']);
    await event('e09', 9, 'writeOff', 'ACCEPTED', 'IDEMPOTENT_REPLAY', ['P']);
    await event('e10', 10, 'addPostingEntries', 'ACCEPTED', null, ['P', 'Q']);
    await event('e11', 11, 'postPostingBatch', 'ACCEPTED', null, ['P', 'Q']);
    await event('e12', 12, 'patients', 'READ', null, ['P', 'Q']);
    await event('e13', 13, 'createPostingBatch', 'ACCEPTED', null, ['P']);
  }

  beforeAll(async () => {
    upgraded = await upgradeAcross('AuditEventVersions', 'audit-versions', async (old, database) => {
      kind = database.kind;
      await writeOldTrail(old);
    });
    current = upgraded.current;
  });
  afterAll(() => upgraded?.close());

  const versions = async () =>
    (await run('SELECT event_id, patient_id, version FROM audit_event_patients WHERE practice_id = ? ORDER BY event_id, patient_id', [PRACTICE])).map((r: Record<string, unknown>) => [
      r.event_id,
      r.patient_id,
      r.version === null ? null : Number(r.version),
    ]);
  const EXPECTED = [
    ['e01', 'P', null],
    ['e02', 'Q', null],
    ['e03', 'P', 1],
    ['e04', 'Q', 1],
    ['e05', 'P', null],
    ['e05', 'Q', null],
    ['e06', 'P', null],
    ['e07', 'P', 2],
    ['e08', 'P', null],
    ['e09', 'P', null],
    ['e10', 'P', null],
    ['e10', 'Q', null],
    ['e11', 'P', 3],
    ['e11', 'Q', 2],
    ['e12', 'P', null],
    ['e12', 'Q', null],
    ['e13', 'P', null],
  ];

  test('an upgraded database matches the entities; each money mutation of before gets the version it gave, nothing else one', async () => {
    expect(await current.showMigrations()).toBe(false);
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
    expect(await versions()).toEqual(EXPECTED);
  });

  test('the version of a past instant is the greatest one recorded by then, 0 before any', async () => {
    const history = new BalanceHistory({ query: (sql, params) => run(sql, params) });
    const versionAt = async (patientId: string, instant: string) => (await history.asOf(PRACTICE, patientId, instant)).version;
    expect(await Promise.all([0, 2, 3, 6, 7, 10, 11, 59].map((minute) => versionAt('P', at(minute))))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(await Promise.all([3, 4, 10, 11].map((minute) => versionAt('Q', at(minute))))).toEqual([0, 1, 1, 2]);
  });

  test('the rows stay append-only, the version included', async () => {
    await expect(run("UPDATE audit_event_patients SET version = 9 WHERE event_id = 'e03'")).rejects.toThrow(REFUSED);
    await expect(run("UPDATE audit_event_patients SET version = version WHERE event_id = 'e05'")).rejects.toThrow(REFUSED);
    await expect(run("DELETE FROM audit_event_patients WHERE event_id = 'e03'")).rejects.toThrow(REFUSED);
    if (kind === 'postgres') await expect(run('TRUNCATE audit_event_patients')).rejects.toThrow(REFUSED);
    expect(await versions()).toEqual(EXPECTED);
  });

  test('undone, the migration drops the column and keeps the triggers; redone, it fills the versions again', async () => {
    const AuditEventVersions = MIGRATIONS[kind].find((m) => m.name.startsWith('AuditEventVersions'))!;
    const runner = current.createQueryRunner();
    try {
      await new AuditEventVersions().down(runner);
      expect((await runner.getTable('audit_event_patients'))!.columns.map((c) => c.name)).not.toContain('version');
      await expect(run("UPDATE audit_event_patients SET occurred_at = occurred_at WHERE event_id = 'e03'")).rejects.toThrow(REFUSED);
      await new AuditEventVersions().up(runner);
    } finally {
      await runner.release();
    }
    expect((await pendingSchemaChanges(current)).up).toEqual([]);
    expect(await versions()).toEqual(EXPECTED);
    await expect(run("UPDATE audit_event_patients SET version = 9 WHERE event_id = 'e03'")).rejects.toThrow(REFUSED);
  });
});

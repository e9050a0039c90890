import type { SqlRunner, Transaction } from '../db/database';
import type { BalanceBus, BalanceEvent } from '../balances/balance-event';
import { toCents } from '../db/columns';
import { inChunks, insertRows, marks } from '../db/sql';
import {
  BalanceTotals,
  PatientLedger,
  allocatedCents,
  ledgerBalance,
  ledgerDifferences,
  ledgerViolations,
  PaymentMethod,
  ResponsibilityKind,
  ResponsibilityOrigin,
  addCharge,
  addLine,
  addPayment,
  addRefund,
  addRemittance,
  addWriteOff,
  allocate,
  cancelLine,
  emptyLedger,
  reduceAllocation,
  removeWriteOff,
  reverseLine,
  reverseRemittance,
  voidPayment,
} from '../ledger';

/** Every read that decides where money goes lists rows in ledger order, the same on every database (docs/design.md §2.8). */
const LEDGER_ORDER = 'ORDER BY sequence, id';

/**
 * Rebuilds a patient's ledger from its fact rows: every stored fact applied to an empty state, in ledger order, by the
 * same functions a mutation applies its new facts with. Inside a money mutation this runs after the patient's lock is
 * taken, so it sees every committed change and no one else's pending ones. It is what a mutation starts from when the
 * patient is not cached, and the verifier the cached state is compared with.
 *
 * With `asOf`, only what was recorded up to that instant counts (docs/design.md §8.5): every row keeps when it was
 * recorded, and a cancellation, reversal or void counts from its own time.
 */
export async function loadPatientLedger(sql: SqlRunner, practiceId: string, patientId: string, version: number, asOf: string | null = null): Promise<PatientLedger> {
  const scope = asOf ? [patientId, practiceId, asOf] : [patientId, practiceId];
  const where = `WHERE patient_id = ? AND practice_id = ?${asOf ? ' AND created_at <= ?' : ''}`;
  const [charges, remittances, lines, payments, allocations, reductions, refunds, writeOffs, removals, voids, reversals] = await Promise.all([
    sql.query(`SELECT id, billed_cents, service_date FROM charges ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT id, charge_id, external_id FROM remittances ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT id, charge_id, kind, origin, status, amount_cents, sequence, remittance_id, cancelled_at FROM responsibilities ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT id, amount_cents, method FROM payments ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT id, payment_id, responsibility_id, amount_cents, sequence FROM allocations ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT allocation_id, amount_cents FROM allocation_reductions ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT payment_id, returned_cents FROM refunds ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT id, responsibility_id, amount_cents FROM write_offs ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT write_off_id, amount_cents FROM write_off_reversals ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT payment_id, amount_cents FROM payment_voids ${where} ${LEDGER_ORDER}`, scope),
    sql.query(`SELECT charge_id, remittance_record_id FROM remittance_reversals ${where} ${LEDGER_ORDER}`, scope),
  ]);
  const ledger = emptyLedger(patientId, version);
  for (const r of charges) addCharge(ledger, { id: String(r.id), billedCents: toCents(r.billed_cents), serviceDate: String(r.service_date) });
  for (const r of remittances) addRemittance(ledger, String(r.charge_id), { recordId: String(r.id), externalId: String(r.external_id) });
  for (const r of lines) {
    addLine(ledger, {
      id: String(r.id),
      chargeId: String(r.charge_id),
      kind: r.kind as ResponsibilityKind,
      origin: r.origin as ResponsibilityOrigin,
      amountCents: toCents(r.amount_cents),
      sequence: Number(r.sequence),
      remittanceId: r.origin === 'REMITTANCE' && r.remittance_id ? String(r.remittance_id) : null,
    });
  }
  for (const r of payments) addPayment(ledger, { id: String(r.id), amountCents: toCents(r.amount_cents), method: r.method as PaymentMethod });
  for (const r of allocations) {
    allocate(ledger, {
      id: String(r.id),
      paymentId: String(r.payment_id),
      responsibilityId: String(r.responsibility_id),
      amountCents: toCents(r.amount_cents),
      sequence: Number(r.sequence),
    });
  }
  for (const r of reductions) reduceAllocation(ledger, String(r.allocation_id), toCents(r.amount_cents));
  for (const r of refunds) addRefund(ledger, String(r.payment_id), toCents(r.returned_cents));
  for (const r of writeOffs) addWriteOff(ledger, { id: String(r.id), responsibilityId: String(r.responsibility_id), amountCents: toCents(r.amount_cents) });
  for (const r of removals) removeWriteOff(ledger, String(r.write_off_id), toCents(r.amount_cents));
  for (const r of voids) voidPayment(ledger, String(r.payment_id), toCents(r.amount_cents));
  for (const r of reversals) reverseRemittance(ledger, String(r.charge_id), String(r.remittance_record_id));
  // A line that ended holds nothing (§2.4, §8.3): its status is applied once what was on it has been taken off.
  for (const r of lines) {
    if (asOf && (r.cancelled_at === null || String(r.cancelled_at) > asOf)) continue;
    if (r.status === 'CANCELLED') cancelLine(ledger, String(r.id));
    if (r.status === 'REVERSED') reverseLine(ledger, String(r.id));
  }
  ledger.totals = ledgerBalance(ledger);
  return ledger;
}

/** Attempts at a consistent read outside a transaction before giving up (a patient changing all the time). */
const CONSISTENT_READ_ATTEMPTS = 5;

/** The version of each of these patients that the practice has (one `IN (…)` statement per IDS_PER_STATEMENT). */
export async function patientVersions(sql: SqlRunner, practiceId: string, patientIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await inChunks(patientIds, (chunk) => sql.query(`SELECT id, version FROM patients WHERE practice_id = ? AND id IN (${marks(chunk)})`, [practiceId, ...chunk]));
  return new Map(rows.map((r: Record<string, unknown>) => [String(r.id), Number(r.version)]));
}

/**
 * Patients' ledgers read from committed data outside any transaction (a preview, a past balance), each starting from
 * the version given for it: its reads are separate statements, so a commit may land between them. Every change to a
 * patient's facts raises its version, so a read between two equal versions, and without a fact naming a row it has
 * not seen, is one committed state; the versions are read again together, and a patient that changed meanwhile is
 * read again. A patient the practice no longer has is left out.
 */
export async function loadCommittedLedgers(
  sql: SqlRunner,
  practiceId: string,
  versions: ReadonlyMap<string, number>,
  asOf: string | null = null,
): Promise<Map<string, PatientLedger>> {
  const done = new Map<string, PatientLedger>();
  let pending = new Map(versions);
  for (let attempt = 1; pending.size > 0; attempt++) {
    const read = new Map<string, PatientLedger>();
    for (const [patientId, version] of pending) {
      try {
        read.set(patientId, await loadPatientLedger(sql, practiceId, patientId, version, asOf));
      } catch (error) {
        // A row of a later commit naming one the earlier statements did not see: read again.
        if (attempt >= CONSISTENT_READ_ATTEMPTS) throw error;
      }
    }
    const now = await patientVersions(sql, practiceId, [...pending.keys()]);
    const changed = new Map<string, number>();
    for (const [patientId, version] of pending) {
      const current = now.get(patientId);
      if (current === undefined) continue;
      const ledger = read.get(patientId);
      if (ledger && current === version) done.set(patientId, ledger);
      else changed.set(patientId, current);
    }
    if (changed.size > 0 && attempt >= CONSISTENT_READ_ATTEMPTS) throw new Error(`patient ${[...changed.keys()][0]} kept changing while its ledger was read`);
    pending = changed;
  }
  return done;
}

/** One patient's `loadCommittedLedgers`, from its current version; null when the practice has no such patient. */
export async function loadCommittedLedger(sql: SqlRunner, practiceId: string, patientId: string, asOf: string | null = null): Promise<PatientLedger | null> {
  const versions = await patientVersions(sql, practiceId, [patientId]);
  if (versions.size === 0) return null;
  return (await loadCommittedLedgers(sql, practiceId, versions, asOf)).get(patientId) ?? null;
}

/**
 * Takes the patient's row lock (PostgreSQL `FOR UPDATE`; on SQLite the one writer already holds every lock) and reads
 * the version the patient's state must have; null when the patient is not in the practice.
 */
export async function lockPatient(tx: Transaction, practiceId: string, patientId: string): Promise<number | null> {
  const lock = tx.kind === 'postgres' ? ' FOR UPDATE' : '';
  const [row] = await tx.query('SELECT version FROM patients WHERE id = ? AND practice_id = ?' + lock, [patientId, practiceId]);
  return row ? Number(row.version) : null;
}

/** The balance event of a patient's new state, published once its unit is committed (docs/design.md §2.6): never before. */
export function publishAfterCommit(tx: Transaction, bus: BalanceBus, practiceId: string, ledger: Pick<PatientLedger, 'patientId' | 'version'>, updatedAt: string, totals: BalanceTotals): void {
  const event: BalanceEvent = { practiceId, patientId: ledger.patientId, version: ledger.version, updatedAt, ...totals };
  tx.afterCommit(() => bus.publish(event));
}

/**
 * The verifier (LEDGER_VERIFY=1, and the tests): where the state a mutation computed in memory differs from the
 * ledger rebuilt from its rows, or from the amounts stored beside the rows. Runs inside the mutation's unit, so it
 * sees what the unit wrote.
 */
export async function verifyLedger(tx: Transaction, practiceId: string, ledger: PatientLedger): Promise<string[]> {
  const rebuilt = await loadPatientLedger(tx, practiceId, ledger.patientId, ledger.version);
  const differences = [...ledgerDifferences(rebuilt, ledger), ...ledgerViolations(ledger).map((problem) => `invariant broken: ${problem}`)];
  const scope = [ledger.patientId, practiceId];
  const where = 'WHERE patient_id = ? AND practice_id = ?';
  const [lines, payments, allocations, writeOffs] = await Promise.all([
    tx.query(`SELECT id, paid_cents, written_off_cents FROM responsibilities ${where}`, scope),
    tx.query(`SELECT id, allocated_cents, refunded_cents, voided_cents FROM payments ${where}`, scope),
    tx.query(`SELECT id, remaining_cents FROM allocations ${where}`, scope),
    tx.query(`SELECT id, active_cents FROM write_offs ${where}`, scope),
  ]);
  const stored = (what: string, rows: Record<string, unknown>[], expected: (id: string) => number[] | undefined, columns: string[]) => {
    for (const row of rows) {
      const want = expected(String(row.id));
      const have = columns.map((column) => toCents(row[column]));
      if (!want || want.join() !== have.join()) differences.push(`stored ${what} ${row.id}: ${have.join('/')} ≠ ${want?.join('/') ?? 'missing'}`);
    }
  };
  stored('line', lines, (id) => rebuilt.lines.get(id) && [rebuilt.lines.get(id)!.paidCents, rebuilt.lines.get(id)!.writtenOffCents], ['paid_cents', 'written_off_cents']);
  stored('payment', payments, (id) => {
    const payment = rebuilt.payments.get(id);
    return payment && [allocatedCents(payment), payment.refundedCents, payment.voidedCents];
  }, ['allocated_cents', 'refunded_cents', 'voided_cents']);
  stored('allocation', allocations, (id) => rebuilt.allocations.get(id) && [rebuilt.allocations.get(id)!.remainingCents], ['remaining_cents']);
  stored('write-off', writeOffs, (id) => rebuilt.writeOffs.get(id) && [rebuilt.writeOffs.get(id)!.activeCents], ['active_cents']);
  return differences;
}

/** A new patient's row: version 0, nothing owed (docs/design.md §2.6); the practice's dashboards learn of it after commit. */
export async function insertPatient(
  tx: Transaction,
  bus: BalanceBus,
  patient: { id: string; practiceId: string; firstName: string; lastName: string; dateOfBirth: string | null; mrn: string | null; createdBy: string },
  now: string,
): Promise<void> {
  const totals: BalanceTotals = { responsibilityCents: 0, paidCents: 0, writtenOffCents: 0, outstandingCents: 0, creditCents: 0 };
  await insertRows(tx, 'patients', [
    {
      id: patient.id,
      practice_id: patient.practiceId,
      first_name: patient.firstName,
      last_name: patient.lastName,
      date_of_birth: patient.dateOfBirth,
      mrn: patient.mrn,
      version: 0,
      responsibility_cents: 0,
      paid_cents: 0,
      written_off_cents: 0,
      outstanding_cents: 0,
      credit_cents: 0,
      balance_updated_at: now,
      created_at: now,
      created_by: patient.createdBy,
    },
  ]);
  publishAfterCommit(tx, bus, patient.practiceId, { patientId: patient.id, version: 0 }, now, totals);
}

import { SqlRunner } from '../db/database';
import { toCents } from '../db/columns';
import {
  AllocationState,
  LineState,
  PaymentState,
  ResponsibilityKind,
  ResponsibilityOrigin,
  ResponsibilityStatus,
  WriteOffState,
  computeBalance,
  BalanceTotals,
  lineInvariantHolds,
  paymentInvariantHolds,
} from '../ledger';

export type LedgerAllocation = AllocationState & { paymentId: string };
export type LedgerPayment = Omit<PaymentState, 'allocations'> & {
  allocations: LedgerAllocation[];
  /** Its refunds so far: one payment holds at most MAX_REFUNDS_PER_PAYMENT. */
  refundCount: number;
};

/** Everything the rules need about one patient's money, rebuilt from the ledger rows. */
export interface PatientLedger {
  patientId: string;
  version: number;
  lines: Map<string, LineState>;
  payments: Map<string, LedgerPayment>;
  writeOffs: Map<string, WriteOffState>;
}

/**
 * Reads a patient's ledger rows and folds them into the state the pure rules work on. Inside a money mutation this
 * runs after the patient's lock is taken, so it sees every committed change and no one else's pending ones.
 */
export async function loadPatientLedger(sql: SqlRunner, practiceId: string, patientId: string): Promise<PatientLedger> {
  const scope = [patientId, practiceId];
  const [patientRows, lineRows, allocationRows, reductionRows, paymentRows, refundRows, writeOffRows, reversalRows] = await Promise.all([
    sql.query('SELECT version FROM patients WHERE id = ? AND practice_id = ?', scope),
    sql.query('SELECT id, charge_id, kind, origin, status, amount_cents FROM responsibilities WHERE patient_id = ? AND practice_id = ?', scope),
    sql.query('SELECT id, payment_id, responsibility_id, amount_cents, sequence FROM allocations WHERE patient_id = ? AND practice_id = ?', scope),
    sql.query('SELECT allocation_id, SUM(amount_cents) AS cents FROM allocation_reductions WHERE patient_id = ? AND practice_id = ? GROUP BY allocation_id', scope),
    sql.query('SELECT id, amount_cents FROM payments WHERE patient_id = ? AND practice_id = ?', scope),
    sql.query('SELECT payment_id, SUM(returned_cents) AS cents, COUNT(*) AS refunds FROM refunds WHERE patient_id = ? AND practice_id = ? GROUP BY payment_id', scope),
    sql.query('SELECT id, responsibility_id, amount_cents FROM write_offs WHERE patient_id = ? AND practice_id = ?', scope),
    sql.query('SELECT write_off_id, SUM(amount_cents) AS cents FROM write_off_reversals WHERE patient_id = ? AND practice_id = ? GROUP BY write_off_id', scope),
  ]);
  if (patientRows.length !== 1) throw new Error('patient vanished while locked');

  const lines = new Map<string, LineState>();
  for (const r of lineRows) {
    lines.set(String(r.id), {
      id: String(r.id),
      chargeId: String(r.charge_id),
      kind: r.kind as ResponsibilityKind,
      origin: r.origin as ResponsibilityOrigin,
      status: r.status as ResponsibilityStatus,
      amountCents: toCents(r.amount_cents),
      paidCents: 0,
      writtenOffCents: 0,
    });
  }
  const reduced = new Map(reductionRows.map((r) => [String(r.allocation_id), toCents(r.cents)]));
  const refunds = new Map(refundRows.map((r) => [String(r.payment_id), { cents: toCents(r.cents), count: Number(r.refunds) }]));
  const payments = new Map<string, LedgerPayment>();
  for (const r of paymentRows) {
    const refunded = refunds.get(String(r.id));
    payments.set(String(r.id), { id: String(r.id), amountCents: toCents(r.amount_cents), refundedCents: refunded?.cents ?? 0, refundCount: refunded?.count ?? 0, allocations: [] });
  }
  for (const r of allocationRows) {
    const allocation: LedgerAllocation = {
      id: String(r.id),
      paymentId: String(r.payment_id),
      responsibilityId: String(r.responsibility_id),
      remainingCents: toCents(r.amount_cents) - (reduced.get(String(r.id)) ?? 0),
      sequence: Number(r.sequence),
    };
    payments.get(allocation.paymentId)?.allocations.push(allocation);
    const line = lines.get(allocation.responsibilityId);
    if (line) line.paidCents += allocation.remainingCents;
  }
  const reversed = new Map(reversalRows.map((r) => [String(r.write_off_id), toCents(r.cents)]));
  const writeOffs = new Map<string, WriteOffState>();
  for (const r of writeOffRows) {
    const writeOff = {
      id: String(r.id),
      responsibilityId: String(r.responsibility_id),
      amountCents: toCents(r.amount_cents),
      activeCents: toCents(r.amount_cents) - (reversed.get(String(r.id)) ?? 0),
    };
    writeOffs.set(writeOff.id, writeOff);
    const line = lines.get(writeOff.responsibilityId);
    if (line) line.writtenOffCents += writeOff.activeCents;
  }
  return { patientId, version: Number(patientRows[0].version), lines, payments, writeOffs };
}

export function ledgerBalance(ledger: PatientLedger): BalanceTotals {
  return computeBalance([...ledger.lines.values()], [...ledger.payments.values()]);
}

/** The §2.1 and §2.2 invariants over the whole patient; a violation means a bug, and its transaction must not commit. */
export function ledgerViolations(ledger: PatientLedger): string[] {
  const problems: string[] = [];
  for (const line of ledger.lines.values()) if (!lineInvariantHolds(line)) problems.push(`line ${line.id}`);
  for (const payment of ledger.payments.values()) if (!paymentInvariantHolds(payment)) problems.push(`payment ${payment.id}`);
  for (const writeOff of ledger.writeOffs.values()) if (writeOff.activeCents < 0) problems.push(`write-off ${writeOff.id}`);
  return problems;
}

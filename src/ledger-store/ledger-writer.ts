import crypto from 'node:crypto';
import type { Transaction } from '../db/database';
import { insertRows, updateRows } from '../db/sql';
import {
  AllocationReductionCause,
  BalanceTotals,
  LineState,
  PatientLedger,
  PaymentMethod,
  PaymentPurpose,
  RefundMethod,
  ResponsibilityKind,
  ResponsibilityOrigin,
  WriteOffReason,
  addCharge,
  addLine,
  addPayment,
  addRefund,
  addRemittance,
  addWriteOff,
  allocate,
  allocatedCents,
  cancelLine,
  computeBalance,
  reduceAllocation,
  removeWriteOff,
  reverseLine,
  reverseRemittance,
  retotal,
  voidPayment,
  totalsOf,
  TouchedRows,
} from '../ledger';

type Row = Record<string, unknown>;

/** The ledger tables, in the order their rows are inserted: a row comes after the rows it names. */
const TABLES = [
  'charges',
  'remittances',
  'responsibilities',
  'payments',
  'allocations',
  'refunds',
  'allocation_reductions',
  'write_offs',
  'write_off_reversals',
  'payment_voids',
  'remittance_reversals',
] as const;
type LedgerTable = (typeof TABLES)[number];

/**
 * Writes one money mutation on one patient. Every operation records a fact row and applies it to the patient's
 * ledger state at once (docs/design.md §2, through the functions of src/ledger/ledger-state.ts), so the rules that
 * follow in the same mutation see it, and the after-state never has to be read back. `flush` then writes the new rows
 * (one INSERT per table), the derived amounts of the rows that changed (one UPDATE per table), and the patient's
 * version and totals: a write-off is one INSERT and two UPDATEs.
 *
 * Every row gets the practice, the patient, the same timestamp, and its place in the patient's ledger (`sequence`).
 */
export class LedgerWriter {
  private ordinal = 0;
  private readonly inserted = new Map<LedgerTable, Row[]>();
  /** Rows whose stored derived amounts change, by table: refreshed from the state at flush. */
  private readonly changed = { lines: new Set<string>(), payments: new Set<string>(), allocations: new Set<string>(), writeOffs: new Set<string>() };
  /** For a preview: each touched line as it was before this mutation touched it (null for a line it created). */
  readonly linesBefore = new Map<string, LineState | null>();
  /** What the touched lines and payments added to the patient's totals before this mutation touched them. */
  private readonly totalsBefore = computeBalance([], []);
  /** Lines that end in this mutation: how (CANCELLED or REVERSED) and why. */
  private readonly endings = new Map<string, { status: 'CANCELLED' | 'REVERSED'; reason: string }>();
  /** Payments voided in this mutation. */
  private readonly voided = new Set<string>();
  /** True once the state was changed: if the unit fails after that, the state no longer matches the database. */
  dirty = false;

  constructor(
    /** Null for a preview: it applies facts to a copy of the state and never writes them. */
    private readonly tx: Transaction | null,
    /** The patient's state; every operation updates it in place. */
    readonly ledger: PatientLedger,
    readonly practiceId: string,
    readonly actorId: string,
    readonly now: string,
    /** The version this mutation gives the patient. */
    readonly version: number,
    /** The posting batch its payments and write-offs belong to, when it posts one (docs/design.md §8.1). */
    readonly batchId: string | null = null,
  ) {}

  get patientId(): string {
    return this.ledger.patientId;
  }

  /** The rows this mutation changed: what the invariants are checked over before it commits. */
  get touched(): TouchedRows {
    return this.changed;
  }

  addCharge(charge: {
    serviceDate: string;
    procedureCode: string;
    description: string | null;
    billedCents: number;
    claimNumber: string | null;
    lineControlNumber: string | null;
  }): string {
    const row = this.record(
      'charges',
      {
        service_date: charge.serviceDate,
        procedure_code: charge.procedureCode,
        description: charge.description,
        billed_cents: charge.billedCents,
        claim_number: charge.claimNumber,
        line_control_number: charge.lineControlNumber,
      },
      true,
    );
    addCharge(this.ledger, { id: row.id, billedCents: charge.billedCents, serviceDate: charge.serviceDate });
    return row.id;
  }

  addRemittance(remittance: { chargeId: string; externalId: string; adjustments: string }): string {
    const row = this.record('remittances', { charge_id: remittance.chargeId, external_id: remittance.externalId, adjustments: remittance.adjustments }, true);
    addRemittance(this.ledger, remittance.chargeId, { recordId: row.id, externalId: remittance.externalId });
    return row.id;
  }

  /** Records that a remittance was reversed (or replaced by `replacedById`); its lines are reversed with `reverseLine`. */
  reverseRemittance(reversal: { chargeId: string; recordId: string; reason: string; replacedById: string | null }): string {
    const row = this.record(
      'remittance_reversals',
      { charge_id: reversal.chargeId, remittance_record_id: reversal.recordId, reason: reversal.reason, replaced_by_id: reversal.replacedById },
      true,
    );
    reverseRemittance(this.ledger, reversal.chargeId, reversal.recordId);
    return row.id;
  }

  addLine(line: { chargeId: string; kind: ResponsibilityKind; origin: ResponsibilityOrigin; amountCents: number; remittanceId?: string | null; reasonCode?: string | null }): string {
    const row = this.record(
      'responsibilities',
      {
        charge_id: line.chargeId,
        kind: line.kind,
        origin: line.origin,
        status: 'ACTIVE',
        amount_cents: line.amountCents,
        remittance_id: line.remittanceId ?? null,
        reason_code: line.reasonCode ?? null,
        cancelled_at: null,
        cancelled_by: null,
        cancel_reason: null,
      },
      true,
    );
    this.touchLine(row.id);
    addLine(this.ledger, {
      id: row.id,
      chargeId: line.chargeId,
      kind: line.kind,
      origin: line.origin,
      amountCents: line.amountCents,
      sequence: row.sequence,
      remittanceId: line.remittanceId ?? null,
    });
    return row.id;
  }

  cancelLine(lineId: string, reason: string): void {
    this.touchLine(lineId);
    cancelLine(this.ledger, lineId);
    this.endings.set(lineId, { status: 'CANCELLED', reason });
  }

  /** A line of a reversed remittance leaves the balance; release its payments first. */
  reverseLine(lineId: string, reason: string): void {
    this.touchLine(lineId);
    reverseLine(this.ledger, lineId);
    this.endings.set(lineId, { status: 'REVERSED', reason });
  }

  /** Voids a payment whose allocations were released: what is left of it leaves the ledger (docs/design.md §8.2). */
  voidPayment(paymentId: string, cents: number, reason: string): string {
    const row = this.record('payment_voids', { payment_id: paymentId, amount_cents: cents, reason }, true);
    this.touchPayment(paymentId);
    voidPayment(this.ledger, paymentId, cents);
    this.voided.add(paymentId);
    return row.id;
  }

  addPayment(payment: { amountCents: number; method: PaymentMethod; purpose: PaymentPurpose; chargeId: string | null; receivedAt: string }): string {
    const row = this.record(
      'payments',
      { amount_cents: payment.amountCents, method: payment.method, purpose: payment.purpose, charge_id: payment.chargeId, received_at: payment.receivedAt, batch_id: this.batchId },
      true,
    );
    this.touchPayment(row.id);
    addPayment(this.ledger, { id: row.id, amountCents: payment.amountCents, method: payment.method });
    return row.id;
  }

  allocate(paymentId: string, lineId: string, cents: number, source: 'PAYMENT' | 'REMITTANCE_MOVE' | 'CREDIT'): string {
    const row = this.record('allocations', { payment_id: paymentId, responsibility_id: lineId, amount_cents: cents, source }, false);
    this.touchPayment(paymentId);
    this.touchLine(lineId);
    allocate(this.ledger, { id: row.id, paymentId, responsibilityId: lineId, amountCents: cents, sequence: row.sequence });
    this.changed.allocations.add(row.id);
    return row.id;
  }

  reduce(allocationId: string, cents: number, cause: AllocationReductionCause, refundId: string | null = null): void {
    const allocation = this.ledger.allocations.get(allocationId);
    if (!allocation) throw new Error(`no allocation ${allocationId} on this patient`);
    this.record(
      'allocation_reductions',
      { allocation_id: allocationId, payment_id: allocation.paymentId, responsibility_id: allocation.responsibilityId, amount_cents: cents, cause, refund_id: refundId },
      false,
    );
    this.touchPayment(allocation.paymentId);
    this.touchLine(allocation.responsibilityId);
    reduceAllocation(this.ledger, allocationId, cents);
    this.changed.allocations.add(allocationId);
  }

  addRefund(refund: { paymentId: string; amountCents: number; returnedCents: number; method: RefundMethod; reason: string }): string {
    const row = this.record(
      'refunds',
      { payment_id: refund.paymentId, amount_cents: refund.amountCents, returned_cents: refund.returnedCents, method: refund.method, reason: refund.reason },
      true,
    );
    this.touchPayment(refund.paymentId);
    addRefund(this.ledger, refund.paymentId, refund.returnedCents);
    return row.id;
  }

  addWriteOff(writeOff: { lineId: string; amountCents: number; reason: WriteOffReason; customReason: string | null; note: string | null }): string {
    const row = this.record(
      'write_offs',
      { responsibility_id: writeOff.lineId, amount_cents: writeOff.amountCents, reason: writeOff.reason, custom_reason: writeOff.customReason, note: writeOff.note, batch_id: this.batchId },
      true,
    );
    this.touchLine(writeOff.lineId);
    addWriteOff(this.ledger, { id: row.id, responsibilityId: writeOff.lineId, amountCents: writeOff.amountCents });
    this.changed.writeOffs.add(row.id);
    return row.id;
  }

  /** Removes `cents` of a write-off (the line owes them again): a removal row. */
  removeWriteOff(writeOffId: string, cents: number, reason: string): string {
    const writeOff = this.ledger.writeOffs.get(writeOffId);
    if (!writeOff) throw new Error(`no write-off ${writeOffId} on this patient`);
    const row = this.record('write_off_reversals', { write_off_id: writeOffId, responsibility_id: writeOff.responsibilityId, amount_cents: cents, reason }, true);
    this.touchLine(writeOff.responsibilityId);
    removeWriteOff(this.ledger, writeOffId, cents);
    this.changed.writeOffs.add(writeOffId);
    return row.id;
  }

  /** The state's new version and totals, once every operation is applied: what `flush` writes, and a preview shows. */
  settle(): BalanceTotals {
    this.ledger.version = this.version;
    return retotal(this.ledger, this.totalsBefore, this.changed);
  }

  /** Writes what the operations recorded, and the patient's new version and totals (from `settle`); returns the totals. */
  async flush(): Promise<BalanceTotals> {
    if (!this.tx) throw new Error('a preview writer never writes');
    const tx = this.tx;
    const totals = this.settle();
    this.fillDerivedAmounts();
    for (const table of TABLES) await insertRows(tx, table, this.inserted.get(table) ?? []);
    const scope = { practice_id: this.practiceId };
    const { lines, payments, allocations, writeOffs } = this.ledger;
    const existing = (ids: Set<string>, table: LedgerTable) => {
      const fresh = new Set((this.inserted.get(table) ?? []).map((row) => row.id));
      return [...ids].filter((id) => !fresh.has(id));
    };
    const ended = existing(this.changed.lines, 'responsibilities').filter((id) => this.endings.has(id));
    await updateRows(
      tx,
      'responsibilities',
      ended.map((id) => {
        const { status, reason } = this.endings.get(id)!;
        return { id, status, cancelled_at: this.now, cancelled_by: this.actorId, cancel_reason: reason, ...lineAmounts(lines.get(id)!) };
      }),
      scope,
    );
    const otherLines = existing(this.changed.lines, 'responsibilities').filter((id) => !this.endings.has(id));
    await updateRows(tx, 'responsibilities', otherLines.map((id) => ({ id, ...lineAmounts(lines.get(id)!) })), scope);
    const changedPayments = existing(this.changed.payments, 'payments');
    await updateRows(tx, 'payments', changedPayments.filter((id) => this.voided.has(id)).map((id) => ({ id, ...paymentAmounts(payments.get(id)!), voided_at: this.now })), scope);
    await updateRows(tx, 'payments', changedPayments.filter((id) => !this.voided.has(id)).map((id) => ({ id, ...paymentAmounts(payments.get(id)!) })), scope);
    await updateRows(tx, 'allocations', existing(this.changed.allocations, 'allocations').map((id) => ({ id, remaining_cents: allocations.get(id)!.remainingCents })), scope);
    await updateRows(tx, 'write_offs', existing(this.changed.writeOffs, 'write_offs').map((id) => ({ id, active_cents: writeOffs.get(id)!.activeCents })), scope);

    await tx.query(
      `UPDATE patients SET version = ?, responsibility_cents = ?, paid_cents = ?, written_off_cents = ?, outstanding_cents = ?,
         credit_cents = ?, balance_updated_at = ? WHERE id = ? AND practice_id = ?`,
      [this.version, totals.responsibilityCents, totals.paidCents, totals.writtenOffCents, totals.outstandingCents, totals.creditCents, this.now, this.patientId, this.practiceId],
    );
    return totals;
  }

  /**
   * Marks a line changed, noting first what it added to the totals before this mutation (nothing for a new line):
   * called before the state changes.
   */
  private touchLine(id: string): void {
    if (this.changed.lines.has(id)) return;
    this.changed.lines.add(id);
    // Only a preview shows lines before and after; a mutation that writes has no use for the copy.
    if (!this.tx) {
      const line = this.ledger.lines.get(id);
      this.linesBefore.set(id, line ? { ...line } : null);
    }
    this.addTo(this.totalsBefore, totalsOf(this.ledger, { lines: [id], payments: [] }));
  }

  private touchPayment(id: string): void {
    if (this.changed.payments.has(id)) return;
    this.changed.payments.add(id);
    this.addTo(this.totalsBefore, totalsOf(this.ledger, { lines: [], payments: [id] }));
  }

  private addTo(sum: BalanceTotals, more: BalanceTotals): void {
    for (const key of Object.keys(sum) as (keyof BalanceTotals)[]) sum[key] += more[key];
  }

  /** Records a fact row with the fields every ledger row carries, and with its author when `authored`. */
  private record(table: LedgerTable, fields: Row, authored: boolean): { id: string; sequence: number } {
    this.dirty = true;
    const row: Row & { id: string; sequence: number } = {
      id: crypto.randomUUID(),
      practice_id: this.practiceId,
      patient_id: this.patientId,
      sequence: this.version * 100_000 + this.ordinal++,
      created_at: this.now,
      ...(authored ? { created_by: this.actorId } : {}),
      ...fields,
    };
    const rows = this.inserted.get(table) ?? [];
    rows.push(row);
    this.inserted.set(table, rows);
    return row;
  }

  /** New rows are inserted with their derived amounts as the state has them once the whole mutation is applied. */
  private fillDerivedAmounts(): void {
    const { lines, payments, allocations, writeOffs } = this.ledger;
    for (const row of this.inserted.get('responsibilities') ?? []) Object.assign(row, lineAmounts(lines.get(row.id as string)!));
    for (const row of this.inserted.get('payments') ?? []) Object.assign(row, paymentAmounts(payments.get(row.id as string)!));
    for (const row of this.inserted.get('allocations') ?? []) row.remaining_cents = allocations.get(row.id as string)!.remainingCents;
    for (const row of this.inserted.get('write_offs') ?? []) row.active_cents = writeOffs.get(row.id as string)!.activeCents;
  }
}

function lineAmounts(line: { paidCents: number; writtenOffCents: number }): Row {
  return { paid_cents: line.paidCents, written_off_cents: line.writtenOffCents };
}

function paymentAmounts(payment: Parameters<typeof allocatedCents>[0]): Row {
  return { allocated_cents: allocatedCents(payment), refunded_cents: payment.refundedCents, voided_cents: payment.voidedCents };
}

import { computeBalance, BalanceTotals } from './balance';
import { lineInvariantHolds, paymentInvariantHolds } from './lines';
import { AllocationState, LineState, PaymentMethod, PaymentState, WriteOffState } from './types';

/**
 * One patient's money as the rules see it, and the one definition of every derived amount (docs/design.md §2): each
 * fact (a line, a payment, an allocation, a reduction, a refund, a write-off, a removal) changes the state through
 * exactly one function here. A mutation applies its new facts to the state it started from; a rebuild applies every
 * stored fact to an empty state, in ledger order. Both must agree, and a test and LEDGER_VERIFY=1 check that they do.
 *
 * Maps keep insertion order, and facts are applied in ledger order (`sequence`), so every map lists its rows oldest
 * first on every database: the rules that pick an order (docs/design.md §2.8) read them that way.
 */
export interface PatientLedger {
  patientId: string;
  version: number;
  /** The patient's totals (docs/design.md §2.6): `ledgerBalance` of the whole state, kept up to date by `retotal`. */
  totals: BalanceTotals;
  charges: Map<string, LedgerCharge>;
  lines: Map<string, LedgerLine>;
  payments: Map<string, LedgerPayment>;
  /** Every allocation of every payment, by id. */
  allocations: Map<string, LedgerAllocation>;
  writeOffs: Map<string, LedgerWriteOff>;
}

export interface LedgerCharge {
  id: string;
  billedCents: number;
  /** Its date of service: applied credit pays the oldest first (§8.4). */
  serviceDate: string;
  /** The remittances recorded for it, by external id: one id is recorded once per charge. */
  remittances: Map<string, LedgerRemittance>;
}

export interface LedgerRemittance {
  /** The remittances row. */
  recordId: string;
  externalId: string;
  /** The lines it created, oldest first. */
  lineIds: string[];
  /** Reversed by the insurer, or replaced by a corrected remittance (§8.3). */
  reversed: boolean;
}

export type LedgerLine = LineState & {
  sequence: number;
  /** Write-offs ever made on it (removed ones count): one line holds at most MAX_WRITE_OFFS_PER_LINE. */
  writeOffCount: number;
};
export type LedgerAllocation = AllocationState & { paymentId: string };
export type LedgerPayment = Omit<PaymentState, 'allocations'> & {
  method: PaymentMethod;
  /** Its allocations, oldest first. */
  allocations: LedgerAllocation[];
  /** Its refunds so far: one payment holds at most MAX_REFUNDS_PER_PAYMENT. */
  refundCount: number;
};
export type LedgerWriteOff = WriteOffState & {
  /** Its removals so far (by removeWriteOff or a superseding remittance). */
  removalCount: number;
};

export function emptyLedger(patientId: string, version: number): PatientLedger {
  return { patientId, version, totals: computeBalance([], []), charges: new Map(), lines: new Map(), payments: new Map(), allocations: new Map(), writeOffs: new Map() };
}

/** A copy to change without touching the original: what a preview applies a batch to (docs/design.md §8.1). */
export function cloneLedger(ledger: PatientLedger): PatientLedger {
  const allocations = new Map([...ledger.allocations].map(([id, a]) => [id, { ...a }]));
  return {
    patientId: ledger.patientId,
    version: ledger.version,
    totals: { ...ledger.totals },
    charges: new Map(
      [...ledger.charges].map(([id, c]) => [id, { ...c, remittances: new Map([...c.remittances].map(([key, r]) => [key, { ...r, lineIds: [...r.lineIds] }])) }]),
    ),
    lines: new Map([...ledger.lines].map(([id, l]) => [id, { ...l }])),
    payments: new Map([...ledger.payments].map(([id, p]) => [id, { ...p, allocations: p.allocations.map((a) => allocations.get(a.id)!) }])),
    allocations,
    writeOffs: new Map([...ledger.writeOffs].map(([id, w]) => [id, { ...w }])),
  };
}

/** The ledger facts, each as the state functions take it. */
export interface ChargeFact {
  id: string;
  billedCents: number;
  serviceDate: string;
}
export interface LineFact {
  id: string;
  chargeId: string;
  kind: LineState['kind'];
  origin: LineState['origin'];
  amountCents: number;
  sequence: number;
  /** The remittances row that created it, for REMITTANCE lines. */
  remittanceId?: string | null;
}
export interface PaymentFact {
  id: string;
  amountCents: number;
  method: PaymentMethod;
}
export interface AllocationFact {
  id: string;
  paymentId: string;
  responsibilityId: string;
  amountCents: number;
  sequence: number;
}
export interface WriteOffFact {
  id: string;
  responsibilityId: string;
  amountCents: number;
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`ledger state has no ${what}`);
  return value;
}

export function addCharge(ledger: PatientLedger, fact: ChargeFact): void {
  ledger.charges.set(fact.id, { id: fact.id, billedCents: fact.billedCents, serviceDate: fact.serviceDate, remittances: new Map() });
}

export function addRemittance(ledger: PatientLedger, chargeId: string, remittance: { recordId: string; externalId: string }): void {
  must(ledger.charges.get(chargeId), `charge ${chargeId}`).remittances.set(remittance.externalId, { ...remittance, lineIds: [], reversed: false });
}

/** The remittance recorded as `recordId`, wherever it is: reversals name the record. */
export function remittanceRecord(ledger: PatientLedger, chargeId: string, recordId: string): LedgerRemittance {
  const charge = must(ledger.charges.get(chargeId), `charge ${chargeId}`);
  return must([...charge.remittances.values()].find((r) => r.recordId === recordId), `remittance ${recordId}`);
}

/** A remittance reversed by the insurer or replaced by a corrected one: its lines were reversed with it (§8.3). */
export function reverseRemittance(ledger: PatientLedger, chargeId: string, recordId: string): void {
  remittanceRecord(ledger, chargeId, recordId).reversed = true;
}

/** A new line owes its whole amount: nothing paid, nothing written off. */
export function addLine(ledger: PatientLedger, { remittanceId, ...fact }: LineFact): LedgerLine {
  const line: LedgerLine = { ...fact, status: 'ACTIVE', paidCents: 0, writtenOffCents: 0, writeOffCount: 0 };
  ledger.lines.set(line.id, line);
  if (remittanceId) remittanceRecord(ledger, line.chargeId, remittanceId).lineIds.push(line.id);
  return line;
}

/** A reversed line leaves every balance like a cancelled one; its payments were released first (§8.3). */
export function reverseLine(ledger: PatientLedger, lineId: string): LedgerLine {
  const line = must(ledger.lines.get(lineId), `line ${lineId}`);
  line.status = 'REVERSED';
  return line;
}

/** Cancelling leaves nothing on the line: its payments were released and it had no active write-off (§2.4). */
export function cancelLine(ledger: PatientLedger, lineId: string): LedgerLine {
  const line = must(ledger.lines.get(lineId), `line ${lineId}`);
  line.status = 'CANCELLED';
  return line;
}

export function addPayment(ledger: PatientLedger, fact: PaymentFact): LedgerPayment {
  const payment: LedgerPayment = { id: fact.id, amountCents: fact.amountCents, method: fact.method, refundedCents: 0, voidedCents: 0, refundCount: 0, allocations: [] };
  ledger.payments.set(payment.id, payment);
  return payment;
}

/** Payment money put on a line: the line's paid amount grows by it. */
export function allocate(ledger: PatientLedger, fact: AllocationFact): LedgerAllocation {
  const payment = must(ledger.payments.get(fact.paymentId), `payment ${fact.paymentId}`);
  const line = must(ledger.lines.get(fact.responsibilityId), `line ${fact.responsibilityId}`);
  const allocation: LedgerAllocation = { id: fact.id, paymentId: payment.id, responsibilityId: line.id, remainingCents: fact.amountCents, sequence: fact.sequence };
  payment.allocations.push(allocation);
  ledger.allocations.set(allocation.id, allocation);
  line.paidCents += fact.amountCents;
  return allocation;
}

/** Cents taken back off an allocation (a refund, a move to credit, a release, a move to another line). */
export function reduceAllocation(ledger: PatientLedger, allocationId: string, cents: number): LedgerAllocation {
  const allocation = must(ledger.allocations.get(allocationId), `allocation ${allocationId}`);
  allocation.remainingCents -= cents;
  must(ledger.lines.get(allocation.responsibilityId), `line ${allocation.responsibilityId}`).paidCents -= cents;
  return allocation;
}

/** A refund of a payment; `returnedCents` is what left the practice (0 for a move to credit). */
export function addRefund(ledger: PatientLedger, paymentId: string, returnedCents: number): LedgerPayment {
  const payment = must(ledger.payments.get(paymentId), `payment ${paymentId}`);
  payment.refundedCents += returnedCents;
  payment.refundCount += 1;
  return payment;
}

/** A void: the payment's allocations were released first, so what is left of it (its credit) leaves the ledger (§8.2). */
export function voidPayment(ledger: PatientLedger, paymentId: string, cents: number): LedgerPayment {
  const payment = must(ledger.payments.get(paymentId), `payment ${paymentId}`);
  payment.voidedCents += cents;
  return payment;
}

export function addWriteOff(ledger: PatientLedger, fact: WriteOffFact): LedgerWriteOff {
  const line = must(ledger.lines.get(fact.responsibilityId), `line ${fact.responsibilityId}`);
  const writeOff: LedgerWriteOff = { ...fact, activeCents: fact.amountCents, removalCount: 0 };
  ledger.writeOffs.set(writeOff.id, writeOff);
  line.writtenOffCents += fact.amountCents;
  line.writeOffCount += 1;
  return writeOff;
}

/** Removing (part of) a write-off: the line owes those cents again. */
export function removeWriteOff(ledger: PatientLedger, writeOffId: string, cents: number): LedgerWriteOff {
  const writeOff = must(ledger.writeOffs.get(writeOffId), `write-off ${writeOffId}`);
  writeOff.activeCents -= cents;
  writeOff.removalCount += 1;
  must(ledger.lines.get(writeOff.responsibilityId), `line ${writeOff.responsibilityId}`).writtenOffCents -= cents;
  return writeOff;
}

/** The lines of one charge, oldest first. */
export function linesOfCharge(ledger: PatientLedger, chargeId: string): LedgerLine[] {
  return [...ledger.lines.values()].filter((line) => line.chargeId === chargeId);
}

/** Every allocation of the patient's payments, oldest first. */
export function allAllocations(ledger: PatientLedger): LedgerAllocation[] {
  return [...ledger.allocations.values()];
}

/** The totals of the whole state, computed afresh: what `totals` must always equal. */
export function ledgerBalance(ledger: PatientLedger): BalanceTotals {
  return computeBalance([...ledger.lines.values()], [...ledger.payments.values()]);
}

/** The rows one change touched, by id: what its totals and invariants are recomputed over. */
export interface TouchedRows {
  lines: Iterable<string>;
  payments: Iterable<string>;
  writeOffs: Iterable<string>;
}

function present<T>(map: Map<string, T>, ids: Iterable<string>): T[] {
  return [...ids].flatMap((id) => (map.has(id) ? [map.get(id)!] : []));
}

/**
 * What some lines and payments add to the totals. Every total is a sum over lines and payments, so the totals after a
 * change are the totals before it, less what the touched rows added before, plus what they add now: the cost of a
 * change follows the rows it touched, not the patient's history.
 */
export function totalsOf(ledger: PatientLedger, touched: Pick<TouchedRows, 'lines' | 'payments'>): BalanceTotals {
  return computeBalance(present(ledger.lines, touched.lines), present(ledger.payments, touched.payments));
}

/** `totals` after a change: `before` is `totalsOf` the touched rows before it was applied. */
export function retotal(ledger: PatientLedger, before: BalanceTotals, touched: Pick<TouchedRows, 'lines' | 'payments'>): BalanceTotals {
  const after = totalsOf(ledger, touched);
  const totals = { ...ledger.totals };
  for (const key of Object.keys(totals) as (keyof BalanceTotals)[]) totals[key] += after[key] - before[key];
  ledger.totals = totals;
  return totals;
}

/**
 * The §2.1 and §2.2 invariants over the given rows (the whole patient when none are given); a violation means a bug,
 * and its transaction must not commit.
 */
export function ledgerViolations(ledger: PatientLedger, touched?: TouchedRows): string[] {
  const lines = touched ? present(ledger.lines, touched.lines) : ledger.lines.values();
  const payments = touched ? present(ledger.payments, touched.payments) : ledger.payments.values();
  const writeOffs = touched ? present(ledger.writeOffs, touched.writeOffs) : ledger.writeOffs.values();
  const problems: string[] = [];
  for (const line of lines) if (!lineInvariantHolds(line)) problems.push(`line ${line.id}`);
  for (const payment of payments) if (!paymentInvariantHolds(payment)) problems.push(`payment ${payment.id}`);
  for (const writeOff of writeOffs) if (writeOff.activeCents < 0) problems.push(`write-off ${writeOff.id}`);
  return problems;
}

/** Where two states of one patient differ (an empty list when they are the same): what the verifier reports. */
export function ledgerDifferences(expected: PatientLedger, actual: PatientLedger): string[] {
  const differences: string[] = [];
  if (expected.version !== actual.version) differences.push(`version ${expected.version} ≠ ${actual.version}`);
  if (JSON.stringify(expected.totals) !== JSON.stringify(actual.totals)) differences.push(`totals ${JSON.stringify(expected.totals)} ≠ ${JSON.stringify(actual.totals)}`);
  const compare = <T>(what: string, a: Map<string, T>, b: Map<string, T>, show: (value: T) => string) => {
    const aKeys = [...a.keys()];
    const bKeys = [...b.keys()];
    if (aKeys.join() !== bKeys.join()) differences.push(`${what}: ids or order differ`);
    for (const [id, value] of a) {
      const other = b.get(id);
      if (other === undefined || show(value) !== show(other)) differences.push(`${what} ${id}: ${show(value)} ≠ ${other === undefined ? 'missing' : show(other)}`);
    }
  };
  compare('charge', expected.charges, actual.charges, (c) => JSON.stringify([c.billedCents, c.serviceDate, [...c.remittances.values()]]));
  compare('line', expected.lines, actual.lines, (l) =>
    JSON.stringify([l.chargeId, l.kind, l.origin, l.status, l.amountCents, l.paidCents, l.writtenOffCents, l.sequence, l.writeOffCount]),
  );
  compare('payment', expected.payments, actual.payments, (p) =>
    JSON.stringify([p.amountCents, p.method, p.refundedCents, p.voidedCents, p.refundCount, p.allocations.map((a) => a.id)]),
  );
  compare('allocation', expected.allocations, actual.allocations, (a) => JSON.stringify([a.paymentId, a.responsibilityId, a.remainingCents, a.sequence]));
  compare('write-off', expected.writeOffs, actual.writeOffs, (w) => JSON.stringify([w.responsibilityId, w.amountCents, w.activeCents, w.removalCount]));
  return differences;
}

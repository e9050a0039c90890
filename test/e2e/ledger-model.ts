/**
 * An independent statement of the ledger rules (docs/design.md §2 and §8) for the model-based test
 * (ledger-model.e2e.test.ts): plain TypeScript that imports nothing from src/, so the server and this model are two
 * separate readings of the design. It predicts, for one patient, whether each mutation is accepted or which refusal it
 * meets, and then every line's paid / written off / status, every payment's allocations line by line, refunded,
 * voided and unallocated amounts, and the balance. For a posting batch it also predicts the preview: every refusal,
 * the patient's balance before and after, and every line touched with its amounts before and after.
 *
 * Ids are the server's: the model learns them from the answer of each accepted mutation (`Created`). The caps on the
 * lines one payment may sit on (100), the payments one application of credit draws from (50) and the lines it pays
 * (50) are beyond what these sequences reach and are not modelled.
 */

export type LineKind = 'COPAY' | 'COINSURANCE' | 'DEDUCTIBLE' | 'NON_COVERED' | 'OTHER' | 'SELF_PAY' | 'CUSTOM';
export type Origin = 'REMITTANCE' | 'ESTIMATED' | 'SELF_PAY' | 'STAFF';
export type LineStatus = 'ACTIVE' | 'CANCELLED' | 'REVERSED';
export type PayMethod = 'CASH' | 'CHECK' | 'CARD' | 'OTHER';
export type Purpose = 'BALANCE' | 'COPAY' | 'COINSURANCE' | 'DEDUCTIBLE' | 'SELF_PAY';
export type RefundMethod = 'ACCOUNT_CREDIT' | 'ORIGINAL_CARD' | 'EXTERNAL_CASH_OR_CARD' | 'EXTERNAL_CHECK';
export type WriteOffReason = 'SMALL_BALANCE' | 'BAD_DEBT' | 'FINANCIAL_HARDSHIP' | 'PROFESSIONAL_COURTESY' | 'BILLING_ERROR' | 'OTHER';
export type BatchKind = 'DEPOSIT' | 'ADJUSTMENT';

export interface Adjustment {
  groupCode: string;
  reasonCode: string;
  amountCents: number;
}

export type Allocations = { lineId: string; amountCents: number }[];

export type Op =
  | { type: 'createCharge'; serviceDate: string; billedCents: number; lines: { kind: LineKind; amountCents: number }[] }
  | { type: 'recordPayment'; purpose: Purpose; amountCents: number; method: PayMethod; chargeId: string | null; allocations: Allocations }
  | { type: 'refund'; paymentId: string; method: RefundMethod; amountCents: number | null }
  | { type: 'writeOff'; lineId: string; amountCents: number; reason: WriteOffReason; customReason: string | null }
  | { type: 'removeWriteOff'; writeOffId: string; amountCents: number | null }
  | { type: 'cancel'; lineId: string }
  | { type: 'remittance'; chargeId: string; remittanceId: string; adjustments: Adjustment[]; replacesRemittanceId: string | null }
  | { type: 'voidPayment'; paymentId: string }
  | { type: 'applyCredit'; allocations: Allocations | null }
  | { type: 'reverseRemittance'; chargeId: string; remittanceId: string }
  | { type: 'batch'; kind: BatchKind; entries: BatchEntry[]; expectedTotalCents: number | null }
  | { type: 'negateBatch'; batchId: string };

/** The steps a posting batch can hold here (docs/design.md §8.1): DEPOSIT and ADJUSTMENT entries. */
export type BatchEntry = Extract<Op, { type: 'recordPayment' | 'writeOff' | 'removeWriteOff' | 'applyCredit' }>;

/** What each kind of batch holds (docs/design.md §8.1); anything else is ENTRY_NOT_ALLOWED. */
export const BATCH_HOLDS: Record<BatchKind, BatchEntry['type'][]> = {
  DEPOSIT: ['recordPayment', 'applyCredit'],
  ADJUSTMENT: ['writeOff', 'removeWriteOff', 'applyCredit'],
};

/** What the server created for an accepted mutation, read from its answer; lines in the order they were created. */
export interface Created {
  chargeId?: string;
  lineIds?: string[];
  paymentId?: string;
  writeOffId?: string;
  /** A posting batch: its id (also when posting it was refused), and what each entry created, in entry order. */
  batchId?: string;
  entries?: Created[];
  /** A negation: the write-offs it made (a removal written off again), per line, oldest first. */
  newWriteOffs?: Map<string, string[]>;
}

/** A PR line's amounts as a preview shows them (docs/design.md §8.1). */
export interface LineAmounts {
  status: LineStatus;
  amountCents: number;
  paidCents: number;
  writtenOffCents: number;
  openCents: number;
}

export interface Totals {
  outstandingCents: number;
  responsibilityCents: number;
  paidCents: number;
  writtenOffCents: number;
  creditCents: number;
}

export type Snapshot = Totals & { version: number };

/** What a batch's preview must show (docs/design.md §8.1), predicted on a copy of the ledger. */
export interface BatchForecast {
  /** Refused when created (ENTRY_NOT_ALLOWED): no batch, no preview. */
  atCreate: string[] | null;
  preview: {
    /** Every refusal posting would meet, in entry order; `entry` null for the batch's own (BATCH_OUT_OF_BALANCE). */
    errors: { entry: number | null; codes: string[] }[];
    before: Snapshot;
    after: Snapshot;
    /** Every line touched, with `before` null for a line the batch would create. */
    lines: { id: string; before: LineAmounts | null; after: LineAmounts }[];
  } | null;
}

/** Either the refusal codes the design allows (more than one only where docs/design.md leaves the order open), or acceptance. */
export type Prediction =
  | {
      refused: string[];
      batch?: BatchForecast;
      /** Called once the server agreed: a batch whose posting was refused stays a DRAFT; a refusal worth counting. */
      afterRefusal?: (created: Created) => void;
    }
  | {
      refused: null;
      /** What the answer must name: new lines (kind, origin, amount, reason code, in creation order) and new objects. */
      expects: { charge?: true; payment?: true; writeOff?: true; lines: { kind: LineKind; origin: Origin; amountCents: number; reasonCode: string | null }[] };
      batch?: BatchForecast;
      apply(created: Created): void;
    };

// docs/design.md §2.5 and the README: the stored-list maximums.
const MAX_LINES_PER_CHARGE = 20;
const MAX_ALLOCATIONS_PER_PAYMENT = 50;
const MAX_ADJUSTMENTS_PER_REMITTANCE = 30;
const MAX_WRITE_OFFS_PER_LINE = 20;
const MAX_REMOVALS_PER_WRITE_OFF = 20;
const MAX_REFUNDS_PER_PAYMENT = 20;

export interface ModelLine {
  id: string;
  chargeId: string;
  kind: LineKind;
  origin: Origin;
  status: LineStatus;
  amountCents: number;
  reasonCode: string | null;
  /** Creation order: oldest first. */
  order: number;
}

interface ModelAllocation {
  paymentId: string;
  lineId: string;
  remainingCents: number;
  /** Creation order, unique: also the allocation's identity (what a negation returns of applied credit). */
  order: number;
}

export interface ModelPayment {
  id: string;
  amountCents: number;
  method: PayMethod;
  refundedCents: number;
  /** What left the ledger when it was voided (docs/design.md §8.2); 0 while it stands. */
  voidedCents: number;
  /** Each refund's amount (for ACCOUNT_CREDIT what it moved to credit), oldest first. */
  refunds: number[];
}

export interface ModelWriteOff {
  id: string;
  lineId: string;
  amountCents: number;
  activeCents: number;
  removals: number;
}

export interface ModelRemittance {
  lineIds: string[];
  reversed: boolean;
}

export interface ModelCharge {
  id: string;
  serviceDate: string;
  billedCents: number;
  lineIds: string[];
  /** By remittance id, in the order recorded. */
  remittances: Map<string, ModelRemittance>;
}

/** What an entry of a posted batch did, for its negation (docs/design.md §8.1). */
type EntryEffect =
  | { kind: 'payment'; paymentId: string; lineId: string | null }
  | { kind: 'writeOff'; writeOffId: string }
  | { kind: 'removal'; lineId: string; amountCents: number }
  | { kind: 'credit'; allocations: { order: number; cents: number }[] };

export interface ModelBatch {
  id: string;
  kind: BatchKind;
  status: 'DRAFT' | 'POSTED' | 'NEGATED';
  entries: BatchEntry[];
  effects: EntryEffect[];
}

/** How often the sequences reached each corner of §2.8, §2.2 and §8, so the test can insist they were exercised. */
export interface ModelStats {
  movedToSameKind: number;
  movedToOtherNewLine: number;
  movedToExistingLine: number;
  /** Moves to an existing line when the charge had several with room: the order of §2.8 decided which. */
  movedWithChoiceOfExisting: number;
  movedToCredit: number;
  supersededWriteOffs: number;
  releasedByCancel: number;
  refundsByMethod: Record<RefundMethod, number>;
  /** §8.2: voids that released allocations, that took credit away, and of a payment with an ACCOUNT_CREDIT refund. */
  voidReleased: number;
  voidOfCredit: number;
  voidAfterAccountCredit: number;
  /** §8.4: applications without and with allocations, drawing on several payments, paying a later-created line first (its date of service is older), running out of credit. */
  creditAuto: number;
  creditExplicit: number;
  creditFromSeveralPayments: number;
  creditByServiceDate: number;
  creditRanOut: number;
  /** §8.3: reversals that released money; corrected remittances moving money off the lines they replace. */
  reversalReleased: number;
  correctedToSameKind: number;
  correctedToOtherNewLine: number;
  correctedToExistingLine: number;
  correctedToCredit: number;
  /** §8.1: batches posted, previews with refusals, negations accepted, and refused because a payment was refunded. */
  batchesPosted: number;
  previewsWithRefusals: number;
  negations: number;
  negationBlockedByRefund: number;
  /** A negation that cancelled the line an up-front or self-pay payment of the batch had created. */
  negationCancelledLine: number;
}

export function emptyStats(): ModelStats {
  return {
    movedToSameKind: 0,
    movedToOtherNewLine: 0,
    movedToExistingLine: 0,
    movedWithChoiceOfExisting: 0,
    movedToCredit: 0,
    supersededWriteOffs: 0,
    releasedByCancel: 0,
    refundsByMethod: { ACCOUNT_CREDIT: 0, ORIGINAL_CARD: 0, EXTERNAL_CASH_OR_CARD: 0, EXTERNAL_CHECK: 0 },
    voidReleased: 0,
    voidOfCredit: 0,
    voidAfterAccountCredit: 0,
    creditAuto: 0,
    creditExplicit: 0,
    creditFromSeveralPayments: 0,
    creditByServiceDate: 0,
    creditRanOut: 0,
    reversalReleased: 0,
    correctedToSameKind: 0,
    correctedToOtherNewLine: 0,
    correctedToExistingLine: 0,
    correctedToCredit: 0,
    batchesPosted: 0,
    previewsWithRefusals: 0,
    negations: 0,
    negationBlockedByRefund: 0,
    negationCancelledLine: 0,
  };
}

/** CARC → kind (docs/design.md §2.1). */
export function kindOfReasonCode(code: string): LineKind {
  return code === '1' ? 'DEDUCTIBLE' : code === '2' ? 'COINSURANCE' : code === '3' ? 'COPAY' : code === '96' || code === '204' ? 'NON_COVERED' : 'OTHER';
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const refuse = (...codes: string[]): Prediction => ({ refused: codes });
const copy = <T>(value: T): T => structuredClone(value);

export class LedgerModel {
  readonly charges = new Map<string, ModelCharge>();
  readonly lines = new Map<string, ModelLine>();
  readonly payments = new Map<string, ModelPayment>();
  readonly writeOffs = new Map<string, ModelWriteOff>();
  readonly batches = new Map<string, ModelBatch>();
  private readonly allocations: ModelAllocation[] = [];
  private clock = 0;
  version = 0;
  /** While a batch is simulated: each line touched, as it was before (null for a line created), like a preview lists them. */
  private touched: Map<string, LineAmounts | null> | null = null;

  constructor(readonly stats: ModelStats = emptyStats()) {}

  /**
   * Applies `op` if the rules accept it, with made-up ids starting with `tag`, and says whether they did: for a copy
   * (`clone`) that a batch's entries are drawn against, each seeing the ones before it.
   */
  simulate(op: Op, tag: string): boolean {
    const p = this.predict(op);
    if (p.refused === null) p.apply({ paymentId: `${tag}-payment`, lineIds: [`${tag}-line`], writeOffId: `${tag}-write-off` });
    return p.refused === null;
  }

  /** A deep copy with its own (discarded) statistics: batches and negations are tried on one first. */
  clone(): LedgerModel {
    const c = new LedgerModel(emptyStats());
    for (const [k, v] of this.charges) c.charges.set(k, copy(v));
    for (const [k, v] of this.lines) c.lines.set(k, copy(v));
    for (const [k, v] of this.payments) c.payments.set(k, copy(v));
    for (const [k, v] of this.writeOffs) c.writeOffs.set(k, copy(v));
    for (const [k, v] of this.batches) c.batches.set(k, copy(v));
    c.allocations.push(...copy(this.allocations));
    c.clock = this.clock;
    c.version = this.version;
    return c;
  }

  // ---- derived amounts (§2.1, §2.2, §8.2) ----

  paidCents(lineId: string): number {
    return sum(this.allocations.filter((a) => a.lineId === lineId).map((a) => a.remainingCents));
  }

  writtenOffCents(lineId: string): number {
    return sum([...this.writeOffs.values()].filter((w) => w.lineId === lineId).map((w) => w.activeCents));
  }

  openCents(lineId: string): number {
    const line = this.lines.get(lineId)!;
    return line.status !== 'ACTIVE' ? 0 : line.amountCents - this.paidCents(lineId) - this.writtenOffCents(lineId);
  }

  lineAmounts(lineId: string): LineAmounts {
    const l = this.lines.get(lineId)!;
    return { status: l.status, amountCents: l.amountCents, paidCents: this.paidCents(lineId), writtenOffCents: this.writtenOffCents(lineId), openCents: this.openCents(lineId) };
  }

  allocatedCents(paymentId: string): number {
    return sum(this.allocations.filter((a) => a.paymentId === paymentId).map((a) => a.remainingCents));
  }

  /** §8.2: amount = allocated + unallocated + refunded + voided. */
  unallocatedCents(paymentId: string): number {
    const p = this.payments.get(paymentId)!;
    return p.amountCents - this.allocatedCents(paymentId) - p.refundedCents - p.voidedCents;
  }

  /** A payment's money line by line (what `Payment.allocations` lists), without lines it has nothing on. */
  allocationsOf(paymentId: string): Map<string, number> {
    const byLine = new Map<string, number>();
    for (const a of this.allocations) if (a.paymentId === paymentId) byLine.set(a.lineId, (byLine.get(a.lineId) ?? 0) + a.remainingCents);
    for (const [line, cents] of byLine) if (cents === 0) byLine.delete(line);
    return byLine;
  }

  /** §2.6: over active lines; credit is every payment's unallocated money. */
  totals(): Totals {
    const active = [...this.lines.values()].filter((l) => l.status === 'ACTIVE');
    return {
      outstandingCents: sum(active.map((l) => Math.max(0, this.openCents(l.id)))),
      responsibilityCents: sum(active.map((l) => l.amountCents)),
      paidCents: sum(active.map((l) => this.paidCents(l.id))),
      writtenOffCents: sum(active.map((l) => this.writtenOffCents(l.id))),
      creditCents: sum([...this.payments.keys()].map((id) => this.unallocatedCents(id))),
    };
  }

  refundableCents(paymentId: string): number {
    const p = this.payments.get(paymentId)!;
    return p.amountCents - p.refundedCents;
  }

  /** What a refund of this method could take at most (§2.2). */
  refundLimit(paymentId: string, method: RefundMethod): number {
    return method === 'ACCOUNT_CREDIT' ? this.allocatedCents(paymentId) : this.refundableCents(paymentId);
  }

  /** Room for more PR on a charge: billed less its active lines (§2.1). */
  chargeRoom(chargeId: string): number {
    const c = this.charges.get(chargeId)!;
    return c.billedCents - sum(c.lineIds.map((id) => this.lines.get(id)!).filter((l) => l.status === 'ACTIVE').map((l) => l.amountCents));
  }

  /** The batch each payment was posted by, if any. */
  batchOfPayment(paymentId: string): ModelBatch | null {
    for (const b of this.batches.values()) if (b.effects.some((e) => e.kind === 'payment' && e.paymentId === paymentId)) return b;
    return null;
  }

  // ---- the rules ----

  predict(op: Op): Prediction {
    switch (op.type) {
      case 'createCharge':
        return this.createCharge(op);
      case 'recordPayment':
        return op.purpose === 'BALANCE' ? this.balancePayment(op) : this.linePayment(op);
      case 'refund':
        return this.refund(op);
      case 'writeOff':
        return this.writeOff(op);
      case 'removeWriteOff':
        return this.removeWriteOff(op);
      case 'cancel':
        return this.cancel(op);
      case 'remittance':
        return this.remittance(op);
      case 'voidPayment':
        return this.voidPayment(op);
      case 'applyCredit':
        return this.applyCredit(op);
      case 'reverseRemittance':
        return this.reverseRemittance(op);
      case 'batch':
        return this.batch(op);
      case 'negateBatch':
        return this.negateBatch(op);
    }
  }

  private accept(expects: Extract<Prediction, { refused: null }>['expects'], apply: (created: Created) => void): Prediction {
    return {
      refused: null,
      expects,
      apply: (created) => {
        apply(created);
        this.version += 1;
      },
    };
  }

  /** Before a line changes: remembered as it was, the first time, while a batch is simulated. */
  private touch(lineId: string): void {
    if (this.touched && !this.touched.has(lineId)) this.touched.set(lineId, this.lines.has(lineId) ? this.lineAmounts(lineId) : null);
  }

  private addLine(id: string, chargeId: string, kind: LineKind, origin: Origin, amountCents: number, reasonCode: string | null): void {
    this.touch(id);
    this.lines.set(id, { id, chargeId, kind, origin, status: 'ACTIVE', amountCents, reasonCode, order: this.clock++ });
    this.charges.get(chargeId)!.lineIds.push(id);
  }

  private allocate(paymentId: string, lineId: string, cents: number): ModelAllocation {
    this.touch(lineId);
    const allocation = { paymentId, lineId, remainingCents: cents, order: this.clock++ };
    this.allocations.push(allocation);
    return allocation;
  }

  /** Takes `cents` off an allocation (refund, release, move). */
  private reduce(a: ModelAllocation, cents: number): void {
    if (cents <= 0) return;
    this.touch(a.lineId);
    a.remainingCents -= cents;
  }

  /** §2.1: STAFF lines, together at most the billed amount. */
  private createCharge(op: Extract<Op, { type: 'createCharge' }>): Prediction {
    if (op.lines.length > MAX_LINES_PER_CHARGE) return refuse('TOO_MANY_ITEMS');
    if (op.billedCents <= 0 || op.lines.some((l) => l.amountCents <= 0)) return refuse('INVALID_AMOUNT');
    if (sum(op.lines.map((l) => l.amountCents)) > op.billedCents) return refuse('PR_EXCEEDS_CHARGE');
    return this.accept({ charge: true, lines: op.lines.map((l) => ({ kind: l.kind, origin: 'STAFF' as const, amountCents: l.amountCents, reasonCode: null })) }, (created) => {
      const chargeId = created.chargeId!;
      this.charges.set(chargeId, { id: chargeId, serviceDate: op.serviceDate, billedCents: op.billedCents, lineIds: [], remittances: new Map() });
      op.lines.forEach((l, i) => this.addLine(created.lineIds![i], chargeId, l.kind, 'STAFF', l.amountCents, null));
    });
  }

  /** §2.2: allocations to open lines, at most the payment; the rest is credit. */
  private balancePayment(op: Extract<Op, { type: 'recordPayment' }>): Prediction {
    if (op.allocations.length > MAX_ALLOCATIONS_PER_PAYMENT) return refuse('TOO_MANY_ITEMS');
    if (op.amountCents <= 0) return refuse('INVALID_AMOUNT');
    const perLine = new Map<string, number>();
    const codes = new Set<string>();
    for (const a of op.allocations) {
      if (!this.lines.has(a.lineId)) return refuse('NOT_FOUND');
      if (a.amountCents <= 0) return refuse('INVALID_AMOUNT');
      const total = (perLine.get(a.lineId) ?? 0) + a.amountCents;
      if (total > this.openCents(a.lineId)) codes.add('ALLOCATION_EXCEEDS_OPEN');
      perLine.set(a.lineId, total);
    }
    // The design names both refusals without fixing which of the two comes first.
    if (sum(perLine.values()) > op.amountCents) codes.add('ALLOCATIONS_EXCEED_PAYMENT');
    if (codes.size > 0) return refuse(...codes);
    return this.accept({ payment: true, lines: [] }, (created) => {
      const id = created.paymentId!;
      this.payments.set(id, { id, amountCents: op.amountCents, method: op.method, refundedCents: 0, voidedCents: 0, refunds: [] });
      for (const [lineId, cents] of perLine) this.allocate(id, lineId, cents);
    });
  }

  /** §2.2: an up-front copay/coinsurance/deductible makes an ESTIMATED line, a self-pay payment a SELF_PAY line, paid in full. */
  private linePayment(op: Extract<Op, { type: 'recordPayment' }>): Prediction {
    if (op.allocations.length > MAX_ALLOCATIONS_PER_PAYMENT) return refuse('TOO_MANY_ITEMS');
    if (op.amountCents <= 0) return refuse('INVALID_AMOUNT');
    if (!op.chargeId) return refuse('CHARGE_REQUIRED');
    if (op.allocations.length > 0) return refuse('ALLOCATION_NOT_ALLOWED');
    const charge = this.charges.get(op.chargeId)!;
    const codes: string[] = [];
    if (charge.lineIds.length + 1 > MAX_LINES_PER_CHARGE) codes.push('TOO_MANY_ITEMS');
    if (op.amountCents > this.chargeRoom(charge.id)) codes.push('PR_EXCEEDS_CHARGE');
    if (codes.length > 0) return refuse(...codes);
    const kind: LineKind = op.purpose === 'SELF_PAY' ? 'SELF_PAY' : (op.purpose as LineKind);
    const origin: Origin = op.purpose === 'SELF_PAY' ? 'SELF_PAY' : 'ESTIMATED';
    return this.accept({ payment: true, lines: [{ kind, origin, amountCents: op.amountCents, reasonCode: null }] }, (created) => {
      const id = created.paymentId!;
      const lineId = created.lineIds![0];
      this.addLine(lineId, charge.id, kind, origin, op.amountCents, null);
      this.payments.set(id, { id, amountCents: op.amountCents, method: op.method, refundedCents: 0, voidedCents: 0, refunds: [] });
      this.allocate(id, lineId, op.amountCents);
    });
  }

  /**
   * §2.2: ACCOUNT_CREDIT moves allocated money to credit, newest allocation first, at most what is allocated; the
   * other methods return unallocated money first, then allocations newest first, at most amount − refunded;
   * ORIGINAL_CARD only for a card payment. No amount means as much as the method allows. §8.2: a voided payment
   * refunds nothing (PAYMENT_VOIDED, what its canRefund says).
   */
  private refund(op: Extract<Op, { type: 'refund' }>): Prediction {
    const p = this.payments.get(op.paymentId)!;
    if (p.voidedCents > 0) return refuse('PAYMENT_VOIDED');
    if (this.refundableCents(p.id) <= 0) return refuse('NOTHING_TO_REFUND');
    if (p.refunds.length >= MAX_REFUNDS_PER_PAYMENT) return refuse('TOO_MANY_ITEMS');
    const codes: string[] = [];
    if (op.method === 'ORIGINAL_CARD' && p.method !== 'CARD') codes.push('REFUND_METHOD_NOT_ALLOWED');
    if (op.amountCents !== null && op.amountCents <= 0) return refuse(...codes, 'INVALID_AMOUNT');
    const limit = this.refundLimit(p.id, op.method);
    const amount = op.amountCents ?? limit;
    if (amount > limit || limit <= 0) codes.push('REFUND_EXCEEDS_REFUNDABLE');
    if (codes.length > 0) return refuse(...codes);
    const returnsMoney = op.method !== 'ACCOUNT_CREDIT';
    return this.accept({ lines: [] }, () => {
      let toTake = returnsMoney ? Math.max(0, amount - this.unallocatedCents(p.id)) : amount;
      const newestFirst = this.allocations.filter((a) => a.paymentId === p.id).sort((a, b) => b.order - a.order);
      for (const a of newestFirst) {
        const cents = Math.min(toTake, a.remainingCents);
        this.reduce(a, cents);
        toTake -= cents;
      }
      if (returnsMoney) p.refundedCents += amount;
      p.refunds.push(amount);
      this.stats.refundsByMethod[op.method] += 1;
    });
  }

  /**
   * §2.3 and the order of §2.5: PR_CANCELLED → PR_ALREADY_PAID → PR_ALREADY_WRITTEN_OFF → NOTHING_TO_WRITE_OFF →
   * TOO_MANY_ITEMS, then amount and texts. A REVERSED line (§8.3) accepts nothing more: PR_REVERSED.
   */
  private writeOff(op: Extract<Op, { type: 'writeOff' }>): Prediction {
    const line = this.lines.get(op.lineId)!;
    const paid = this.paidCents(line.id);
    const written = this.writtenOffCents(line.id);
    const open = this.openCents(line.id);
    if (line.status === 'CANCELLED') return refuse('PR_CANCELLED');
    if (line.status === 'REVERSED') return refuse('PR_REVERSED');
    if (paid >= line.amountCents) return refuse('PR_ALREADY_PAID');
    if (written >= line.amountCents) return refuse('PR_ALREADY_WRITTEN_OFF');
    if (open <= 0) return refuse('NOTHING_TO_WRITE_OFF');
    if ([...this.writeOffs.values()].filter((w) => w.lineId === line.id).length >= MAX_WRITE_OFFS_PER_LINE) return refuse('TOO_MANY_ITEMS');
    if (op.amountCents <= 0) return refuse('INVALID_AMOUNT');
    if (op.amountCents > open) return refuse('WRITE_OFF_EXCEEDS_OPEN');
    if (op.reason === 'OTHER' && !op.customReason) return refuse('CUSTOM_REASON_REQUIRED');
    if (op.reason !== 'OTHER' && op.customReason) return refuse('CUSTOM_REASON_NOT_ALLOWED');
    return this.accept({ writeOff: true, lines: [] }, (created) => {
      const id = created.writeOffId!;
      this.touch(line.id);
      this.writeOffs.set(id, { id, lineId: line.id, amountCents: op.amountCents, activeCents: op.amountCents, removals: 0 });
    });
  }

  /** §2.3: part or all of what is still active; the last removal a write-off can hold must take all of it. */
  private removeWriteOff(op: Extract<Op, { type: 'removeWriteOff' }>): Prediction {
    const w = this.writeOffs.get(op.writeOffId)!;
    if (w.activeCents <= 0) return refuse('NOTHING_TO_REMOVE');
    const amount = op.amountCents ?? w.activeCents;
    if (amount <= 0) return refuse('INVALID_AMOUNT');
    if (amount > w.activeCents) return refuse('REMOVAL_EXCEEDS_ACTIVE');
    if (w.removals + 1 >= MAX_REMOVALS_PER_WRITE_OFF && amount !== w.activeCents) return refuse('TOO_MANY_ITEMS');
    return this.accept({ lines: [] }, () => {
      this.touch(w.lineId);
      w.activeCents -= amount;
      w.removals += 1;
    });
  }

  /**
   * §2.4 and the order of §2.5: PR_FROM_REMITTANCE → PR_HAS_WRITE_OFFS → PR_CANCELLED; payments on it become credit.
   * A REVERSED line came from a remittance: PR_FROM_REMITTANCE by §2.5, or PR_REVERSED (§8.3), which says more.
   */
  private cancel(op: Extract<Op, { type: 'cancel' }>): Prediction {
    const line = this.lines.get(op.lineId)!;
    if (line.status === 'REVERSED') return refuse('PR_FROM_REMITTANCE', 'PR_REVERSED');
    if (line.origin === 'REMITTANCE') return refuse('PR_FROM_REMITTANCE');
    if (this.writtenOffCents(line.id) > 0) return refuse('PR_HAS_WRITE_OFFS');
    if (line.status === 'CANCELLED') return refuse('PR_CANCELLED');
    return this.accept({ lines: [] }, () => {
      this.touch(line.id);
      line.status = 'CANCELLED';
      for (const a of this.allocations) {
        if (a.lineId !== line.id || a.remainingCents === 0) continue;
        this.reduce(a, a.remainingCents);
        this.stats.releasedByCancel += 1;
      }
    });
  }

  /** The remittance a reversal or a correction names (§8.3): recorded for the charge, and not reversed already. */
  private remittanceRefusal(charge: ModelCharge, remittanceId: string): string | null {
    const r = charge.remittances.get(remittanceId.trim());
    if (!r) return 'REMITTANCE_NOT_FOUND';
    if (r.reversed) return 'ALREADY_REVERSED';
    return null;
  }

  /**
   * §2.8: PR adjustments become REMITTANCE lines; the charge's active ESTIMATED lines are cancelled as superseded (their
   * write-offs removed) and their allocations, oldest first, move to the new line of the same kind, then the other
   * new lines in adjustment order, then the charge's other active lines oldest first; what does not fit is credit.
   * §8.3: with `replacesRemittanceId` the lines of that remittance are REVERSED (refused while one has an active
   * write-off) and their money moves the same way, all the emptied lines' allocations together oldest first.
   */
  private remittance(op: Extract<Op, { type: 'remittance' }>): Prediction {
    if (op.adjustments.length > MAX_ADJUSTMENTS_PER_REMITTANCE) return refuse('TOO_MANY_ITEMS');
    if (op.remittanceId.trim() === '') return refuse('INVALID_TEXT');
    const charge = this.charges.get(op.chargeId)!;
    if (charge.remittances.has(op.remittanceId.trim())) return refuse('DUPLICATE_REMITTANCE');
    const replaced = op.replacesRemittanceId === null ? null : charge.remittances.get(op.replacesRemittanceId.trim()) ?? null;
    if (op.replacesRemittanceId !== null) {
      const why = this.remittanceRefusal(charge, op.replacesRemittanceId);
      if (why) return refuse(why);
    }
    for (const a of op.adjustments) {
      if (!['PR', 'CO', 'OA', 'PI'].includes(a.groupCode.trim().toUpperCase())) return refuse('INVALID_REMITTANCE');
      if (!/^[A-Z0-9]{1,5}$/.test(a.reasonCode.trim().toUpperCase())) return refuse('INVALID_REMITTANCE');
      if (a.amountCents <= 0) return refuse('INVALID_AMOUNT');
    }
    const newLines = op.adjustments
      .filter((a) => a.groupCode.trim().toUpperCase() === 'PR')
      .map((a) => ({ kind: kindOfReasonCode(a.reasonCode.trim().toUpperCase()), origin: 'REMITTANCE' as const, amountCents: a.amountCents, reasonCode: a.reasonCode.trim().toUpperCase() }));
    const chargeLines = charge.lineIds.map((id) => this.lines.get(id)!);
    const reversedIds = new Set(replaced?.lineIds ?? []);
    const superseded = chargeLines.filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
    const supersededIds = new Set(superseded.map((l) => l.id));
    const emptied = new Set([...supersededIds, ...reversedIds]);
    const others = chargeLines.filter((l) => l.status === 'ACTIVE' && !emptied.has(l.id)).sort((a, b) => a.order - b.order);
    // Which of these comes first the design does not say.
    const codes: string[] = [];
    if (chargeLines.length + newLines.length > MAX_LINES_PER_CHARGE) codes.push('TOO_MANY_ITEMS');
    if ([...reversedIds].some((id) => this.writtenOffCents(id) > 0)) codes.push('PR_HAS_WRITE_OFFS');
    if (sum(others.map((l) => l.amountCents)) + sum(newLines.map((l) => l.amountCents)) > charge.billedCents) codes.push('PR_EXCEEDS_CHARGE');
    if (codes.length > 0) return refuse(...codes);

    return this.accept({ lines: newLines }, (created) => {
      const newIds = created.lineIds!;
      charge.remittances.set(op.remittanceId.trim(), { lineIds: newIds, reversed: false });
      newLines.forEach((l, i) => this.addLine(newIds[i], charge.id, l.kind, 'REMITTANCE', l.amountCents, l.reasonCode));
      for (const w of this.writeOffs.values()) {
        if (!supersededIds.has(w.lineId) || w.activeCents <= 0) continue;
        this.touch(w.lineId);
        w.activeCents = 0;
        w.removals += 1;
        this.stats.supersededWriteOffs += 1;
      }
      const targets = [
        ...newLines.map((l, i) => ({ id: newIds[i], kind: l.kind as LineKind | null, room: l.amountCents, isNew: true })),
        ...others.map((l) => ({ id: l.id, kind: null, room: this.openCents(l.id), isNew: false })),
      ];
      const moving = this.allocations.filter((a) => emptied.has(a.lineId) && a.remainingCents > 0).sort((a, b) => a.order - b.order);
      for (const l of superseded) {
        this.touch(l.id);
        l.status = 'CANCELLED';
      }
      for (const id of reversedIds) {
        this.touch(id);
        this.lines.get(id)!.status = 'REVERSED';
      }
      if (replaced) replaced.reversed = true;
      for (const allocation of moving) {
        let left = allocation.remainingCents;
        const corrected = reversedIds.has(allocation.lineId);
        this.reduce(allocation, left);
        const kind = this.lines.get(allocation.lineId)!.kind;
        const order = [...targets.filter((t) => t.isNew && t.kind === kind), ...targets.filter((t) => t.isNew && t.kind !== kind), ...targets.filter((t) => !t.isNew)];
        for (const t of order) {
          const cents = Math.min(left, t.room);
          if (cents <= 0) continue;
          if (!t.isNew && targets.filter((x) => !x.isNew && x.room > 0).length > 1) this.stats.movedWithChoiceOfExisting += 1;
          this.allocate(allocation.paymentId, t.id, cents);
          if (t.isNew && t.kind === kind) this.stats[corrected ? 'correctedToSameKind' : 'movedToSameKind'] += 1;
          else if (t.isNew) this.stats[corrected ? 'correctedToOtherNewLine' : 'movedToOtherNewLine'] += 1;
          else this.stats[corrected ? 'correctedToExistingLine' : 'movedToExistingLine'] += 1;
          t.room -= cents;
          left -= cents;
        }
        if (left > 0) this.stats[corrected ? 'correctedToCredit' : 'movedToCredit'] += 1;
      }
    });
  }

  /** §8.3: the remittance's lines become REVERSED and their payments go to credit; refused while one has an active write-off. */
  private reverseRemittance(op: Extract<Op, { type: 'reverseRemittance' }>): Prediction {
    const charge = this.charges.get(op.chargeId)!;
    const why = this.remittanceRefusal(charge, op.remittanceId);
    if (why) return refuse(why);
    const remittance = charge.remittances.get(op.remittanceId.trim())!;
    if (remittance.lineIds.some((id) => this.writtenOffCents(id) > 0)) return refuse('PR_HAS_WRITE_OFFS');
    return this.accept({ lines: [] }, () => {
      const ids = new Set(remittance.lineIds);
      for (const a of this.allocations) {
        if (!ids.has(a.lineId) || a.remainingCents === 0) continue;
        this.reduce(a, a.remainingCents);
        this.stats.reversalReleased += 1;
      }
      for (const id of ids) {
        this.touch(id);
        this.lines.get(id)!.status = 'REVERSED';
      }
      remittance.reversed = true;
    });
  }

  /**
   * §8.2: the whole payment leaves the ledger: its allocations are released, its credit is gone. Refused when voided
   * already (PAYMENT_VOIDED) or when money was returned from it (PAYMENT_HAS_REFUNDS; ACCOUNT_CREDIT returns none).
   */
  private voidPayment(op: Extract<Op, { type: 'voidPayment' }>): Prediction {
    const p = this.payments.get(op.paymentId)!;
    if (p.voidedCents > 0) return refuse('PAYMENT_VOIDED');
    if (p.refundedCents > 0) return refuse('PAYMENT_HAS_REFUNDS');
    return this.accept({ payment: true, lines: [] }, () => {
      if (this.unallocatedCents(p.id) > 0) this.stats.voidOfCredit += 1;
      if (p.refunds.length > 0) this.stats.voidAfterAccountCredit += 1;
      for (const a of this.allocations) {
        if (a.paymentId !== p.id || a.remainingCents === 0) continue;
        this.reduce(a, a.remainingCents);
        this.stats.voidReleased += 1;
      }
      p.voidedCents = p.amountCents - p.refundedCents;
    });
  }

  /**
   * §8.4: the patient's unallocated money to open lines. Without allocations: the oldest date of service first, then
   * the oldest line, until the credit or the open PR runs out; the money comes from the payments oldest first.
   * Refused with NO_CREDIT, NOTHING_OPEN, ALLOCATION_EXCEEDS_OPEN and CREDIT_EXCEEDED (those two in no fixed order).
   */
  private applyCredit(op: Extract<Op, { type: 'applyCredit' }>): Prediction {
    const explicit = op.allocations !== null && op.allocations.length > 0;
    if (explicit && op.allocations!.length > MAX_ALLOCATIONS_PER_PAYMENT) return refuse('TOO_MANY_ITEMS');
    const credit = this.totals().creditCents;
    if (credit <= 0) return refuse('NO_CREDIT');
    let wanted: { lineId: string; cents: number }[];
    if (explicit) {
      const codes = new Set<string>();
      const perLine = new Map<string, number>();
      for (const a of op.allocations!) {
        if (!this.lines.has(a.lineId)) return refuse('NOT_FOUND');
        if (a.amountCents <= 0) return refuse('INVALID_AMOUNT');
        const total = (perLine.get(a.lineId) ?? 0) + a.amountCents;
        if (total > this.openCents(a.lineId)) codes.add('ALLOCATION_EXCEEDS_OPEN');
        perLine.set(a.lineId, total);
      }
      if (sum(op.allocations!.map((a) => a.amountCents)) > credit) codes.add('CREDIT_EXCEEDED');
      if (codes.size > 0) return refuse(...codes);
      wanted = op.allocations!.map((a) => ({ lineId: a.lineId, cents: a.amountCents }));
    } else {
      const open = [...this.lines.values()]
        .filter((l) => this.openCents(l.id) > 0)
        .sort((a, b) => {
          const da = this.charges.get(a.chargeId)!.serviceDate;
          const db = this.charges.get(b.chargeId)!.serviceDate;
          return da < db ? -1 : da > db ? 1 : a.order - b.order;
        });
      if (open.length === 0) return refuse('NOTHING_OPEN');
      wanted = open.map((l) => ({ lineId: l.id, cents: this.openCents(l.id) }));
    }
    return this.accept({ lines: [] }, () => {
      const sources = [...this.payments.values()].map((p) => ({ id: p.id, left: this.unallocatedCents(p.id) }));
      const drawn = new Set<string>();
      const paid: string[] = [];
      for (const w of wanted) {
        let toPlace = w.cents;
        for (const s of sources) {
          const take = Math.min(toPlace, s.left);
          if (take <= 0) continue;
          this.allocate(s.id, w.lineId, take);
          drawn.add(s.id);
          if (!paid.includes(w.lineId)) paid.push(w.lineId);
          s.left -= take;
          toPlace -= take;
        }
      }
      this.stats[explicit ? 'creditExplicit' : 'creditAuto'] += 1;
      if (drawn.size > 1) this.stats.creditFromSeveralPayments += 1;
      if (!explicit) {
        const oldestCreated = [...wanted].sort((a, b) => this.lines.get(a.lineId)!.order - this.lines.get(b.lineId)!.order)[0].lineId;
        if (paid[0] !== oldestCreated) this.stats.creditByServiceDate += 1;
        if (sum(wanted.map((w) => w.cents)) > credit) this.stats.creditRanOut += 1;
      }
    });
  }

  /**
   * §8.1: a batch's entries, each seeing the ones before it. ENTRY_NOT_ALLOWED when created; at preview every refusal
   * (a refused entry is left out and the next ones still run) and BATCH_OUT_OF_BALANCE when a DEPOSIT's payments miss
   * its expected total; posting meets the first of them, or applies every entry with one version step.
   */
  private batch(op: Extract<Op, { type: 'batch' }>): Prediction {
    const notAllowed = op.entries.find((e) => !BATCH_HOLDS[op.kind].includes(e.type));
    if (notAllowed) return { refused: ['ENTRY_NOT_ALLOWED'], batch: { atCreate: ['ENTRY_NOT_ALLOWED'], preview: null } };
    const sim = this.clone();
    sim.touched = new Map();
    const errors: { entry: number | null; codes: string[] }[] = [];
    op.entries.forEach((entry, i) => {
      const p = sim.predict(entry);
      if (p.refused) errors.push({ entry: i, codes: p.refused });
      else p.apply({ paymentId: `preview-payment-${i}`, lineIds: [`preview-line-${i}`], writeOffId: `preview-write-off-${i}` });
    });
    if (errors.length === 0 && op.kind === 'DEPOSIT' && op.expectedTotalCents !== null) {
      const total = sum(op.entries.map((e) => (e.type === 'recordPayment' ? e.amountCents : 0)));
      if (total !== op.expectedTotalCents) errors.push({ entry: null, codes: ['BATCH_OUT_OF_BALANCE'] });
    }
    const forecast: BatchForecast = {
      atCreate: null,
      preview: {
        errors,
        before: { ...this.totals(), version: this.version },
        after: { ...sim.totals(), version: this.version + 1 },
        lines: [...sim.touched].map(([id, before]) => ({ id, before, after: sim.lineAmounts(id) })),
      },
    };
    const draft = (created: Created): ModelBatch => ({ id: created.batchId!, kind: op.kind, status: 'DRAFT', entries: op.entries, effects: [] });
    if (errors.length > 0) {
      return {
        refused: errors[0].codes,
        batch: forecast,
        afterRefusal: (created) => {
          this.batches.set(created.batchId!, draft(created));
          this.stats.previewsWithRefusals += 1;
        },
      };
    }
    return {
      ...(this.accept({ lines: [] }, (created) => {
        const batch = { ...draft(created), status: 'POSTED' as const };
        const version = this.version;
        op.entries.forEach((entry, i) => batch.effects.push(this.replay(entry, created.entries![i])));
        this.version = version;
        this.batches.set(batch.id, batch);
        this.stats.batchesPosted += 1;
      }) as Extract<Prediction, { refused: null }>),
      batch: forecast,
    };
  }

  /** Applies one entry of a batch being posted (it was accepted on the copy) and returns what it did, for a negation. */
  private replay(entry: BatchEntry, created: Created): EntryEffect {
    const p = this.predict(entry);
    if (p.refused) throw new Error(`the model refused a posted entry it had accepted in the preview: ${p.refused.join(', ')}`);
    const firstAllocation = this.clock;
    const activeBefore = entry.type === 'removeWriteOff' ? this.writeOffs.get(entry.writeOffId)!.activeCents : 0;
    p.apply(created);
    switch (entry.type) {
      case 'recordPayment':
        return { kind: 'payment', paymentId: created.paymentId!, lineId: entry.purpose === 'BALANCE' ? null : created.lineIds![0] };
      case 'writeOff':
        return { kind: 'writeOff', writeOffId: created.writeOffId! };
      case 'removeWriteOff': {
        const w = this.writeOffs.get(entry.writeOffId)!;
        return { kind: 'removal', lineId: w.lineId, amountCents: activeBefore - w.activeCents };
      }
      case 'applyCredit':
        return { kind: 'credit', allocations: this.allocations.filter((a) => a.order >= firstAllocation).map((a) => ({ order: a.order, cents: a.remainingCents })) };
    }
  }

  /**
   * §8.1: the equal and opposite of every entry, last first: a payment is voided (and the line an up-front or
   * self-pay payment created is cancelled, as that PR came with it), a write-off has what is still active removed, a
   * removal is written off again, applied credit goes back to credit. Returns what stands in the way (then
   * BATCH_HAS_DEPENDENTS), or null once done.
   */
  private undo(batch: ModelBatch, newWriteOffs: Map<string, string[]> | null): string | null {
    const taken = new Map<string, number>();
    for (let i = batch.effects.length - 1; i >= 0; i--) {
      const effect = batch.effects[i];
      switch (effect.kind) {
        case 'payment': {
          const p = this.predict({ type: 'voidPayment', paymentId: effect.paymentId });
          if (p.refused) return p.refused[0];
          p.apply({});
          // An up-front or self-pay payment made its own line: its opposite also cancels that PR.
          if (effect.lineId) {
            const c = this.predict({ type: 'cancel', lineId: effect.lineId });
            if (c.refused) return c.refused[0];
            c.apply({});
            this.stats.negationCancelledLine += 1;
          }
          break;
        }
        case 'writeOff': {
          if (this.writeOffs.get(effect.writeOffId)!.activeCents === 0) break;
          const p = this.predict({ type: 'removeWriteOff', writeOffId: effect.writeOffId, amountCents: null });
          if (p.refused) return p.refused[0];
          p.apply({});
          break;
        }
        case 'removal': {
          const p = this.predict({ type: 'writeOff', lineId: effect.lineId, amountCents: effect.amountCents, reason: 'BAD_DEBT', customReason: null });
          if (p.refused) return p.refused[0];
          const n = taken.get(effect.lineId) ?? 0;
          taken.set(effect.lineId, n + 1);
          p.apply({ writeOffId: newWriteOffs ? newWriteOffs.get(effect.lineId)?.[n] : `negation-write-off-${i}` });
          break;
        }
        case 'credit': {
          const mine = effect.allocations.map((x) => ({ a: this.allocations.find((a) => a.order === x.order)!, cents: x.cents }));
          if (mine.some(({ a, cents }) => a.remainingCents !== cents)) return 'CREDIT_MOVED';
          for (const { a, cents } of mine) this.reduce(a, cents);
          break;
        }
      }
    }
    return null;
  }

  /** §8.1: ALREADY_NEGATED, BATCH_NOT_POSTED, BATCH_HAS_DEPENDENTS; else the equal and opposite, one version step. */
  private negateBatch(op: Extract<Op, { type: 'negateBatch' }>): Prediction {
    const batch = this.batches.get(op.batchId)!;
    if (batch.status === 'NEGATED') return refuse('ALREADY_NEGATED');
    if (batch.status === 'DRAFT') return refuse('BATCH_NOT_POSTED');
    const blocker = this.clone().undo(batch, null);
    if (blocker) {
      return { refused: ['BATCH_HAS_DEPENDENTS'], afterRefusal: () => (blocker === 'PAYMENT_HAS_REFUNDS' ? (this.stats.negationBlockedByRefund += 1) : undefined) };
    }
    return this.accept({ lines: [] }, (created) => {
      const version = this.version;
      const blocked = this.undo(batch, created.newWriteOffs ?? new Map());
      if (blocked) throw new Error(`the negation the model accepted on a copy was blocked: ${blocked}`);
      for (const [lineId, ids] of created.newWriteOffs ?? []) {
        for (const id of ids) if (!this.writeOffs.has(id)) throw new Error(`the server made write-off ${id} on ${lineId} that the negation did not`);
      }
      this.version = version;
      batch.status = 'NEGATED';
      this.stats.negations += 1;
    });
  }
}

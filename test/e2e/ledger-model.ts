/**
 * An independent statement of the ledger rules (docs/design.md §2) for the model-based test (ledger-model.e2e.test.ts):
 * plain TypeScript that imports nothing from src/, so the server and this model are two separate readings of the
 * design. It predicts, for one patient, whether each mutation is accepted or which refusal it meets, and then every
 * line's paid / written off / status, every payment's allocations line by line, refunded and unallocated amounts,
 * and the balance.
 *
 * Ids are the server's: the model learns them from the answer of each accepted mutation (`Created`). The cap on the
 * lines one payment may sit on (100, README) is beyond what these sequences reach and is not modelled.
 */

export type LineKind = 'COPAY' | 'COINSURANCE' | 'DEDUCTIBLE' | 'NON_COVERED' | 'OTHER' | 'SELF_PAY' | 'CUSTOM';
export type Origin = 'REMITTANCE' | 'ESTIMATED' | 'SELF_PAY' | 'STAFF';
export type PayMethod = 'CASH' | 'CHECK' | 'CARD' | 'OTHER';
export type Purpose = 'BALANCE' | 'COPAY' | 'COINSURANCE' | 'DEDUCTIBLE' | 'SELF_PAY';
export type RefundMethod = 'ACCOUNT_CREDIT' | 'ORIGINAL_CARD' | 'EXTERNAL_CASH_OR_CARD' | 'EXTERNAL_CHECK';
export type WriteOffReason = 'SMALL_BALANCE' | 'BAD_DEBT' | 'FINANCIAL_HARDSHIP' | 'PROFESSIONAL_COURTESY' | 'BILLING_ERROR' | 'OTHER';

export interface Adjustment {
  groupCode: string;
  reasonCode: string;
  amountCents: number;
}

export type Op =
  | { type: 'createCharge'; billedCents: number; lines: { kind: LineKind; amountCents: number }[] }
  | { type: 'recordPayment'; purpose: Purpose; amountCents: number; method: PayMethod; chargeId: string | null; allocations: { lineId: string; amountCents: number }[] }
  | { type: 'refund'; paymentId: string; method: RefundMethod; amountCents: number | null }
  | { type: 'writeOff'; lineId: string; amountCents: number; reason: WriteOffReason; customReason: string | null }
  | { type: 'removeWriteOff'; writeOffId: string; amountCents: number | null }
  | { type: 'cancel'; lineId: string }
  | { type: 'remittance'; chargeId: string; remittanceId: string; adjustments: Adjustment[] };

/** What the server created for an accepted mutation, read from its answer; lines in the order they were created. */
export interface Created {
  chargeId?: string;
  lineIds?: string[];
  paymentId?: string;
  writeOffId?: string;
}

/** Either the refusal codes the design allows (more than one only where docs/design.md §2.5 leaves the order open), or acceptance. */
export type Prediction =
  | { refused: string[] }
  | {
      refused: null;
      /** What the answer must name: new lines (kind, origin, amount, reason code, in creation order) and new objects. */
      expects: { charge?: true; payment?: true; writeOff?: true; lines: { kind: LineKind; origin: Origin; amountCents: number; reasonCode: string | null }[] };
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
  status: 'ACTIVE' | 'CANCELLED';
  amountCents: number;
  reasonCode: string | null;
  /** Creation order: oldest first. */
  order: number;
}

interface ModelAllocation {
  paymentId: string;
  lineId: string;
  remainingCents: number;
  order: number;
}

export interface ModelPayment {
  id: string;
  amountCents: number;
  method: PayMethod;
  refundedCents: number;
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

export interface ModelCharge {
  id: string;
  billedCents: number;
  lineIds: string[];
  remittanceIds: Set<string>;
}

export interface Totals {
  outstandingCents: number;
  responsibilityCents: number;
  paidCents: number;
  writtenOffCents: number;
  creditCents: number;
}

/** How often the sequences reached each corner of §2.8 and §2.2, so the test can insist they were exercised. */
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
  };
}

/** CARC → kind (docs/design.md §2.1). */
export function kindOfReasonCode(code: string): LineKind {
  return code === '1' ? 'DEDUCTIBLE' : code === '2' ? 'COINSURANCE' : code === '3' ? 'COPAY' : code === '96' || code === '204' ? 'NON_COVERED' : 'OTHER';
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const refuse = (...codes: string[]): Prediction => ({ refused: codes });

export class LedgerModel {
  readonly charges = new Map<string, ModelCharge>();
  readonly lines = new Map<string, ModelLine>();
  readonly payments = new Map<string, ModelPayment>();
  readonly writeOffs = new Map<string, ModelWriteOff>();
  private readonly allocations: ModelAllocation[] = [];
  private clock = 0;
  version = 0;

  constructor(readonly stats: ModelStats = emptyStats()) {}

  // ---- derived amounts (§2.1, §2.2) ----

  paidCents(lineId: string): number {
    return sum(this.allocations.filter((a) => a.lineId === lineId).map((a) => a.remainingCents));
  }

  writtenOffCents(lineId: string): number {
    return sum([...this.writeOffs.values()].filter((w) => w.lineId === lineId).map((w) => w.activeCents));
  }

  openCents(lineId: string): number {
    const line = this.lines.get(lineId)!;
    return line.status === 'CANCELLED' ? 0 : line.amountCents - this.paidCents(lineId) - this.writtenOffCents(lineId);
  }

  allocatedCents(paymentId: string): number {
    return sum(this.allocations.filter((a) => a.paymentId === paymentId).map((a) => a.remainingCents));
  }

  unallocatedCents(paymentId: string): number {
    const p = this.payments.get(paymentId)!;
    return p.amountCents - this.allocatedCents(paymentId) - p.refundedCents;
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

  private addLine(id: string, chargeId: string, kind: LineKind, origin: Origin, amountCents: number, reasonCode: string | null): void {
    this.lines.set(id, { id, chargeId, kind, origin, status: 'ACTIVE', amountCents, reasonCode, order: this.clock++ });
    this.charges.get(chargeId)!.lineIds.push(id);
  }

  private allocate(paymentId: string, lineId: string, cents: number): void {
    this.allocations.push({ paymentId, lineId, remainingCents: cents, order: this.clock++ });
  }

  /** §2.1: STAFF lines, together at most the billed amount. */
  private createCharge(op: Extract<Op, { type: 'createCharge' }>): Prediction {
    if (op.lines.length > MAX_LINES_PER_CHARGE) return refuse('TOO_MANY_ITEMS');
    if (op.billedCents <= 0 || op.lines.some((l) => l.amountCents <= 0)) return refuse('INVALID_AMOUNT');
    if (sum(op.lines.map((l) => l.amountCents)) > op.billedCents) return refuse('PR_EXCEEDS_CHARGE');
    return this.accept({ charge: true, lines: op.lines.map((l) => ({ kind: l.kind, origin: 'STAFF' as const, amountCents: l.amountCents, reasonCode: null })) }, (created) => {
      const chargeId = created.chargeId!;
      this.charges.set(chargeId, { id: chargeId, billedCents: op.billedCents, lineIds: [], remittanceIds: new Set() });
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
      this.payments.set(id, { id, amountCents: op.amountCents, method: op.method, refundedCents: 0, refunds: [] });
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
      this.payments.set(id, { id, amountCents: op.amountCents, method: op.method, refundedCents: 0, refunds: [] });
      this.allocate(id, lineId, op.amountCents);
    });
  }

  /**
   * §2.2: ACCOUNT_CREDIT moves allocated money to credit, newest allocation first, at most what is allocated; the
   * other methods return unallocated money first, then allocations newest first, at most amount − refunded;
   * ORIGINAL_CARD only for a card payment. No amount means as much as the method allows.
   */
  private refund(op: Extract<Op, { type: 'refund' }>): Prediction {
    const p = this.payments.get(op.paymentId)!;
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
        a.remainingCents -= cents;
        toTake -= cents;
      }
      if (returnsMoney) p.refundedCents += amount;
      p.refunds.push(amount);
      this.stats.refundsByMethod[op.method] += 1;
    });
  }

  /** §2.3 and the order of §2.5: PR_CANCELLED → PR_ALREADY_PAID → PR_ALREADY_WRITTEN_OFF → NOTHING_TO_WRITE_OFF → TOO_MANY_ITEMS, then amount and texts. */
  private writeOff(op: Extract<Op, { type: 'writeOff' }>): Prediction {
    const line = this.lines.get(op.lineId)!;
    const paid = this.paidCents(line.id);
    const written = this.writtenOffCents(line.id);
    const open = this.openCents(line.id);
    if (line.status === 'CANCELLED') return refuse('PR_CANCELLED');
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
      w.activeCents -= amount;
      w.removals += 1;
    });
  }

  /** §2.4 and the order of §2.5: PR_FROM_REMITTANCE → PR_HAS_WRITE_OFFS → PR_CANCELLED; payments on it become credit. */
  private cancel(op: Extract<Op, { type: 'cancel' }>): Prediction {
    const line = this.lines.get(op.lineId)!;
    if (line.origin === 'REMITTANCE') return refuse('PR_FROM_REMITTANCE');
    if (this.writtenOffCents(line.id) > 0) return refuse('PR_HAS_WRITE_OFFS');
    if (line.status === 'CANCELLED') return refuse('PR_CANCELLED');
    return this.accept({ lines: [] }, () => {
      line.status = 'CANCELLED';
      for (const a of this.allocations) {
        if (a.lineId !== line.id || a.remainingCents === 0) continue;
        a.remainingCents = 0;
        this.stats.releasedByCancel += 1;
      }
    });
  }

  /**
   * §2.8: PR adjustments become REMITTANCE lines; the charge's active ESTIMATED lines are cancelled as superseded (their
   * write-offs removed) and their allocations, oldest first, move to the new line of the same kind, then the other
   * new lines in adjustment order, then the charge's other active lines oldest first; what does not fit is credit.
   */
  private remittance(op: Extract<Op, { type: 'remittance' }>): Prediction {
    if (op.adjustments.length > MAX_ADJUSTMENTS_PER_REMITTANCE) return refuse('TOO_MANY_ITEMS');
    if (op.remittanceId.trim() === '') return refuse('INVALID_TEXT');
    const charge = this.charges.get(op.chargeId)!;
    if (charge.remittanceIds.has(op.remittanceId.trim())) return refuse('DUPLICATE_REMITTANCE');
    for (const a of op.adjustments) {
      if (!['PR', 'CO', 'OA', 'PI'].includes(a.groupCode.trim().toUpperCase())) return refuse('INVALID_REMITTANCE');
      if (!/^[A-Z0-9]{1,5}$/.test(a.reasonCode.trim().toUpperCase())) return refuse('INVALID_REMITTANCE');
      if (a.amountCents <= 0) return refuse('INVALID_AMOUNT');
    }
    const newLines = op.adjustments
      .filter((a) => a.groupCode.trim().toUpperCase() === 'PR')
      .map((a) => ({ kind: kindOfReasonCode(a.reasonCode.trim().toUpperCase()), origin: 'REMITTANCE' as const, amountCents: a.amountCents, reasonCode: a.reasonCode.trim().toUpperCase() }));
    const chargeLines = charge.lineIds.map((id) => this.lines.get(id)!);
    const superseded = chargeLines.filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
    const others = chargeLines.filter((l) => l.status === 'ACTIVE' && l.origin !== 'ESTIMATED').sort((a, b) => a.order - b.order);
    const codes: string[] = [];
    if (chargeLines.length + newLines.length > MAX_LINES_PER_CHARGE) codes.push('TOO_MANY_ITEMS');
    if (sum(others.map((l) => l.amountCents)) + sum(newLines.map((l) => l.amountCents)) > charge.billedCents) codes.push('PR_EXCEEDS_CHARGE');
    if (codes.length > 0) return refuse(...codes);

    return this.accept({ lines: newLines }, (created) => {
      charge.remittanceIds.add(op.remittanceId.trim());
      newLines.forEach((l, i) => this.addLine(created.lineIds![i], charge.id, l.kind, 'REMITTANCE', l.amountCents, l.reasonCode));
      const supersededIds = new Set(superseded.map((l) => l.id));
      for (const w of this.writeOffs.values()) {
        if (!supersededIds.has(w.lineId) || w.activeCents <= 0) continue;
        w.activeCents = 0;
        w.removals += 1;
        this.stats.supersededWriteOffs += 1;
      }
      const targets = [
        ...newLines.map((l, i) => ({ id: created.lineIds![i], kind: l.kind as LineKind | null, room: l.amountCents, isNew: true })),
        ...others.map((l) => ({ id: l.id, kind: null, room: this.openCents(l.id), isNew: false })),
      ];
      const moving = this.allocations.filter((a) => supersededIds.has(a.lineId) && a.remainingCents > 0).sort((a, b) => a.order - b.order);
      for (const l of superseded) l.status = 'CANCELLED';
      for (const allocation of moving) {
        let left = allocation.remainingCents;
        allocation.remainingCents = 0;
        const kind = this.lines.get(allocation.lineId)!.kind;
        const order = [...targets.filter((t) => t.isNew && t.kind === kind), ...targets.filter((t) => t.isNew && t.kind !== kind), ...targets.filter((t) => !t.isNew)];
        for (const t of order) {
          const cents = Math.min(left, t.room);
          if (cents <= 0) continue;
          if (!t.isNew && targets.filter((x) => !x.isNew && x.room > 0).length > 1) this.stats.movedWithChoiceOfExisting += 1;
          this.allocate(allocation.paymentId, t.id, cents);
          if (t.isNew && t.kind === kind) this.stats.movedToSameKind += 1;
          else if (t.isNew) this.stats.movedToOtherNewLine += 1;
          else this.stats.movedToExistingLine += 1;
          t.room -= cents;
          left -= cents;
        }
        if (left > 0) this.stats.movedToCredit += 1;
      }
    });
  }
}

/**
 * The ledger as a whole, driven only through the pure functions of ./index: an in-memory ledger that applies plans
 * to plain rows, the docs/design.md §2.7 worked example, and a seeded randomized run that checks the §2 invariants after
 * every step.
 */
import {
  Adjustment,
  AllocationState,
  BalanceTotals,
  LineState,
  MAX_INPUT_CENTS,
  MAX_LINES_PER_CHARGE,
  MAX_REFUNDS_PER_PAYMENT,
  MAX_REMOVALS_PER_WRITE_OFF,
  MAX_WRITE_OFFS_PER_LINE,
  PaymentMethod,
  PaymentMethods,
  PaymentPurpose,
  PaymentState,
  Refusal,
  RefundMethod,
  RequestedAllocation,
  ResponsibilityKind,
  ResponsibilityOrigin,
  ResponsibilityStatus,
  WriteOffState,
  cancelBlocker,
  checkNewCharge,
  computeBalance,
  isPositiveCents,
  isRefusal,
  lineInvariantHolds,
  notFound,
  openCents,
  paymentInvariantHolds,
  planBalancePayment,
  planCancel,
  planLinePayment,
  planRefund,
  planRemittance,
  planRemoval,
  planWriteOff,
  refundBlocker,
  refundableCents,
  removalBlocker,
  toAvailability,
  writeOffBlocker,
} from './index';
import * as ledger from './index';
import { mulberry32 } from '../../test/seeded-random';

// ---------------------------------------------------------------------------------------------------------------
// In-memory ledger: rows only; paid and written-off amounts are always derived, never stored.

type Alloc = AllocationState & { paymentId: string };
interface LineRow {
  id: string;
  chargeId: string;
  kind: ResponsibilityKind;
  origin: ResponsibilityOrigin;
  status: ResponsibilityStatus;
  amountCents: number;
}
interface PaymentRow {
  id: string;
  method: PaymentMethod;
  amountCents: number;
  refundedCents: number;
  voidedCents: number;
  refundCount: number;
  allocations: Alloc[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) as T;
  return value;
}
/** Plans get frozen copies, so a plan function that writes to its input throws. */
const frozen = <T>(value: T): T => deepFreeze(clone(value));

class MemoryLedger {
  readonly charges = new Map<string, { id: string; billedCents: number }>();
  readonly rows = new Map<string, LineRow>();
  readonly payments = new Map<string, PaymentRow>();
  readonly writeOffs = new Map<string, WriteOffState>();
  /** Removals per write-off, by removeWriteOff and by remittances. */
  readonly removals = new Map<string, number>();
  private readonly allocationIndex = new Map<string, Alloc>();
  private counter = 0;
  private sequence = 0;

  private nextId(prefix: string): string {
    return `${prefix}${++this.counter}`;
  }

  private cachedLines: LineState[] | null = null;
  /** Every public method that can change a row runs inside this, so the derived lines are recomputed after it. */
  private mutate<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.cachedLines = null;
    }
  }

  lines(): LineState[] {
    if (this.cachedLines === null) this.cachedLines = this.deriveLines();
    return this.cachedLines.map((l) => ({ ...l }));
  }
  private deriveLines(): LineState[] {
    const paid = new Map<string, number>();
    for (const p of this.payments.values()) for (const a of p.allocations) paid.set(a.responsibilityId, (paid.get(a.responsibilityId) ?? 0) + a.remainingCents);
    const written = new Map<string, number>();
    for (const w of this.writeOffs.values()) written.set(w.responsibilityId, (written.get(w.responsibilityId) ?? 0) + w.activeCents);
    return [...this.rows.values()].map((r) => ({ ...r, paidCents: paid.get(r.id) ?? 0, writtenOffCents: written.get(r.id) ?? 0 }));
  }
  line(id: string): LineState | undefined {
    return this.lines().find((l) => l.id === id);
  }
  lineMap(): Map<string, LineState> {
    return new Map(this.lines().map((l) => [l.id, l]));
  }
  paymentStates(): PaymentState[] {
    return [...this.payments.values()].map((p) => ({ ...p, allocations: p.allocations.map((a) => ({ ...a })) }));
  }
  allocationsOn(lineId: string): Alloc[] {
    return [...this.payments.values()].flatMap((p) => p.allocations.filter((a) => a.responsibilityId === lineId)).map((a) => ({ ...a }));
  }
  chargeView(chargeId: string): { billedCents: number; lines: LineState[] } {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new Error(`no charge ${chargeId}`);
    return { billedCents: charge.billedCents, lines: this.lines().filter((l) => l.chargeId === chargeId) };
  }
  removalCount(writeOffId: string): number {
    return this.removals.get(writeOffId) ?? 0;
  }
  writeOffCount(lineId: string): number {
    return [...this.writeOffs.values()].filter((w) => w.responsibilityId === lineId).length;
  }
  balance(): BalanceTotals {
    return computeBalance(this.lines(), this.paymentStates());
  }
  snapshot(): string {
    return JSON.stringify([[...this.charges], [...this.rows], [...this.payments], [...this.writeOffs], [...this.removals]]);
  }

  private addLine(chargeId: string, kind: ResponsibilityKind, origin: ResponsibilityOrigin, amountCents: number): string {
    const id = this.nextId('L');
    this.rows.set(id, { id, chargeId, kind, origin, status: 'ACTIVE', amountCents });
    return id;
  }
  private addAllocation(payment: PaymentRow, responsibilityId: string, cents: number): void {
    if (!this.rows.has(responsibilityId)) throw new Error(`allocation to unknown line ${responsibilityId}`);
    const a: Alloc = { id: this.nextId('A'), paymentId: payment.id, responsibilityId, remainingCents: cents, sequence: ++this.sequence };
    payment.allocations.push(a);
    this.allocationIndex.set(a.id, a);
  }
  private allocation(id: string): Alloc {
    const a = this.allocationIndex.get(id);
    if (!a) throw new Error(`plan names unknown allocation ${id}`);
    return a;
  }

  createCharge(billedCents: number, lines: { kind: ResponsibilityKind; origin: ResponsibilityOrigin; amountCents: number }[] = []): string | Refusal {
    return this.mutate(() => {
      const problem = checkNewCharge(billedCents, frozen(lines.map((l) => l.amountCents)));
      if (problem) return problem;
      const id = this.nextId('C');
      this.charges.set(id, { id, billedCents });
      for (const l of lines) this.addLine(id, l.kind, l.origin, l.amountCents);
      return id;
    });
  }

  balancePayment(amountCents: number, requested: RequestedAllocation[], method: PaymentMethod = 'CARD'): { paymentId: string; allocations: RequestedAllocation[] } | Refusal {
    return this.mutate(() => {
      const lines = new Map([...this.lineMap()].map(([k, v]) => [k, frozen(v)]));
      const plan = planBalancePayment(amountCents, frozen(requested), lines);
      if (isRefusal(plan)) return plan;
      const payment: PaymentRow = { id: this.nextId('P'), method, amountCents, refundedCents: 0, voidedCents: 0, refundCount: 0, allocations: [] };
      this.payments.set(payment.id, payment);
      for (const a of plan.allocations) this.addAllocation(payment, a.responsibilityId, a.amountCents);
      return { paymentId: payment.id, allocations: plan.allocations };
    });
  }

  linePayment(
    purpose: Exclude<PaymentPurpose, 'BALANCE'>,
    amountCents: number,
    chargeId: string | null,
    hasAllocations = false,
    method: PaymentMethod = 'CARD',
  ): { paymentId: string; lineId: string } | Refusal {
    return this.mutate(() => {
      if (chargeId !== null && !this.charges.has(chargeId)) return notFound('charge', ['input', 'chargeId']);
      const plan = planLinePayment(purpose, amountCents, chargeId === null ? null : frozen(this.chargeView(chargeId)), hasAllocations);
      if (isRefusal(plan)) return plan;
      const lineId = this.addLine(chargeId as string, plan.line.kind, plan.line.origin, plan.line.amountCents);
      const payment: PaymentRow = { id: this.nextId('P'), method, amountCents, refundedCents: 0, voidedCents: 0, refundCount: 0, allocations: [] };
      this.payments.set(payment.id, payment);
      this.addAllocation(payment, lineId, plan.line.amountCents);
      return { paymentId: payment.id, lineId };
    });
  }

  writeOff(lineId: string, amountCents: number): string | Refusal {
    return this.mutate(() => {
      const line = this.line(lineId);
      if (!line) return notFound('PR line');
      const amount = planWriteOff(frozen(line), this.writeOffCount(lineId), amountCents);
      if (isRefusal(amount)) return amount;
      const id = this.nextId('W');
      this.writeOffs.set(id, { id, responsibilityId: lineId, amountCents: amount, activeCents: amount });
      return id;
    });
  }

  removeWriteOff(writeOffId: string, amountCents: number | null): number | Refusal {
    return this.mutate(() => {
      const w = this.writeOffs.get(writeOffId);
      if (!w) return notFound('write-off');
      const amount = planRemoval(frozen(w), this.removalCount(writeOffId), amountCents);
      if (isRefusal(amount)) return amount;
      w.activeCents -= amount;
      this.removals.set(writeOffId, this.removalCount(writeOffId) + 1);
      return amount;
    });
  }

  cancel(lineId: string): number | Refusal {
    return this.mutate(() => {
      const line = this.line(lineId);
      if (!line) return notFound('PR line');
      const plan = planCancel(frozen(line), frozen(this.allocationsOn(lineId)));
      if (isRefusal(plan)) return plan;
      let released = 0;
      for (const r of plan.releases) {
        const a = this.allocation(r.allocationId);
        if (a.responsibilityId !== lineId) throw new Error('release from another line');
        a.remainingCents -= r.cents;
        released += r.cents;
      }
      this.rows.get(lineId)!.status = 'CANCELLED';
      return released;
    });
  }

  refund(paymentId: string, method: RefundMethod, amountCents: number | null): ledger.RefundPlan | Refusal {
    return this.mutate(() => {
      const payment = this.payments.get(paymentId);
      if (!payment) return notFound('payment');
      const plan = planRefund(frozen(payment), payment.refundCount, method, amountCents);
      if (isRefusal(plan)) return plan;
      payment.refundCount += 1;
      for (const t of plan.takebacks) {
        const a = this.allocation(t.allocationId);
        if (a.paymentId !== paymentId || a.responsibilityId !== t.responsibilityId) throw new Error('takeback from the wrong allocation');
        a.remainingCents -= t.cents;
      }
      if (plan.returnsMoney) payment.refundedCents += plan.amountCents;
      return plan;
    });
  }

  remit(chargeId: string, adjustments: Adjustment[]): { plan: ledger.RemittancePlan; newLineIds: string[] } | Refusal {
    return this.mutate(() => {
      if (!this.charges.has(chargeId)) return notFound('charge');
      const view = this.chargeView(chargeId);
      const lineIds = new Set(view.lines.map((l) => l.id));
      const allocations = [...this.payments.values()].flatMap((p) => p.allocations);
      const writeOffs = [...this.writeOffs.values()].filter((w) => lineIds.has(w.responsibilityId));
      const plan = planRemittance(frozen(view), frozen(adjustments), frozen(allocations), frozen(writeOffs));
      if (isRefusal(plan)) return plan;
      const newLineIds = plan.newLines.map((l) => this.addLine(chargeId, l.kind, 'REMITTANCE', l.amountCents));
      for (const r of plan.reversals) {
        const w = this.writeOffs.get(r.writeOffId);
        if (!w) throw new Error(`unknown write-off ${r.writeOffId}`);
        w.activeCents -= r.cents;
        this.removals.set(w.id, this.removalCount(w.id) + 1);
      }
      for (const r of plan.reductions) this.allocation(r.allocationId).remainingCents -= r.cents;
      for (const id of plan.supersededLineIds) this.rows.get(id)!.status = 'CANCELLED';
      for (const m of plan.moves) {
        const payment = this.payments.get(m.paymentId);
        if (!payment) throw new Error(`unknown payment ${m.paymentId}`);
        this.addAllocation(payment, 'newLine' in m.target ? newLineIds[m.target.newLine] : m.target.responsibilityId, m.cents);
      }
      return { plan, newLineIds };
    });
  }
}

function expectOk<T>(result: T | Refusal): T {
  if (isRefusal(result)) throw new Error(`unexpected refusal ${result.code}: ${result.message}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------

describe('index', () => {
  it('re-exports every module of the ledger', () => {
    for (const name of [
      'ResponsibilityKinds',
      'RefusalCode',
      'Tooltip',
      'MAX_INPUT_CENTS',
      'MAX_LINES_PER_CHARGE',
      'formatCents',
      'cleanText',
      'openCents',
      'writeOffBlocker',
      'checkNewCharge',
      'planWriteOff',
      'WRITE_OFF_REASONS',
      'planCancel',
      'planBalancePayment',
      'planRefund',
      'planRemittance',
      'computeBalance',
      'planVoid',
      'voidBlocker',
      'planApplyCredit',
      'planReverseRemittance',
      'remittanceToReverse',
      'cloneLedger',
      'voidPayment',
      'reverseLine',
      'reverseRemittance',
      'remittanceRecord',
      'MAX_PAYMENTS_PER_CREDIT',
    ]) {
      expect(ledger).toHaveProperty(name);
    }
  });

  it('holds the §2.1/§2.2 vocabularies', () => {
    expect([...ledger.ResponsibilityKinds]).toEqual(['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'NON_COVERED', 'OTHER', 'SELF_PAY', 'CUSTOM']);
    expect([...ledger.ResponsibilityOrigins]).toEqual(['REMITTANCE', 'ESTIMATED', 'SELF_PAY', 'STAFF']);
    expect([...ledger.ResponsibilityStatuses]).toEqual(['ACTIVE', 'CANCELLED', 'REVERSED']);
    expect([...ledger.RefundMethods]).toEqual(['ACCOUNT_CREDIT', 'ORIGINAL_CARD', 'EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK']);
    expect([...ledger.PaymentPurposes]).toEqual(['BALANCE', 'COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY']);
  });

  it('holds the causes an allocation shrinks for, the §8 ones (void, reversal, credit returned) included', () => {
    expect([...ledger.AllocationReductionCauses]).toEqual(['REFUND', 'ACCOUNT_CREDIT', 'CANCELLATION', 'SUPERSEDED', 'VOID', 'REVERSAL', 'CREDIT_RETURNED']);
  });
});

describe('docs/design.md §2.7 worked example, with the pure functions only', () => {
  function start() {
    const led = new MemoryLedger();
    const chargeId = expectOk(led.createCharge(25000));
    const remitted = expectOk(led.remit(chargeId, [{ groupCode: 'PR', reasonCode: '1', amountCents: 10000 }, { groupCode: 'CO', reasonCode: '45', amountCents: 15000 }]));
    expect(remitted.newLineIds).toHaveLength(1);
    const prId = remitted.newLineIds[0];
    expect(led.line(prId)).toMatchObject({ origin: 'REMITTANCE', kind: 'DEDUCTIBLE', amountCents: 10000, status: 'ACTIVE' });
    return { led, chargeId, prId };
  }

  it('PR $100 → pay $30 → write off $50 → refund $30 → remove write-off → cancel refused → self-pay $75 → refund → cancel', () => {
    const { led, chargeId, prId } = start();
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 0, outstandingCents: 10000, creditCents: 0 });

    const { paymentId } = expectOk(led.balancePayment(3000, [{ responsibilityId: prId, amountCents: 3000 }]));
    expect(led.balance()).toMatchObject({ paidCents: 3000, outstandingCents: 7000, creditCents: 0 });

    const woId = expectOk(led.writeOff(prId, 5000));
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 3000, writtenOffCents: 5000, outstandingCents: 2000, creditCents: 0 });
    // only $20 is left to write off
    expect(led.writeOff(prId, 2001)).toMatchObject({ code: 'WRITE_OFF_EXCEEDS_OPEN', message: 'You can write off at most $20.00: that is what is still open on this PR.' });

    const refund = expectOk(led.refund(paymentId, 'EXTERNAL_CASH_OR_CARD', 3000));
    expect(refund).toEqual({ amountCents: 3000, returnsMoney: true, takebacks: [{ allocationId: expect.any(String), responsibilityId: prId, cents: 3000 }] });
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 5000, outstandingCents: 5000, creditCents: 0 });
    expect(toAvailability(refundBlocker(expectOk(led.paymentStates().find((p) => p.id === paymentId) ?? null) as PaymentState, true))).toEqual({
      allowed: false,
      code: 'NOTHING_TO_REFUND',
      message: 'This payment has already been fully refunded.',
    });

    expect(led.removeWriteOff(woId, null)).toBe(5000);
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 0, outstandingCents: 10000, creditCents: 0 });

    const before = led.snapshot();
    const refused = { code: 'PR_FROM_REMITTANCE', message: "PR from an insurance remittance can't be cancelled. Write it off, or post a corrected remittance." };
    expect(toAvailability(cancelBlocker(led.line(prId)!, true))).toEqual({ allowed: false, ...refused });
    expect(led.cancel(prId)).toEqual(refused);
    expect(led.snapshot()).toBe(before);

    const selfPay = expectOk(led.linePayment('SELF_PAY', 7500, chargeId));
    expect(led.line(selfPay.lineId)).toMatchObject({ kind: 'SELF_PAY', origin: 'SELF_PAY', amountCents: 7500, paidCents: 7500, status: 'ACTIVE' });
    expect(led.balance()).toEqual({ responsibilityCents: 17500, paidCents: 7500, writtenOffCents: 0, outstandingCents: 10000, creditCents: 0 });

    expectOk(led.refund(selfPay.paymentId, 'ORIGINAL_CARD', null));
    expect(led.balance()).toEqual({ responsibilityCents: 17500, paidCents: 0, writtenOffCents: 0, outstandingCents: 17500, creditCents: 0 });

    expect(led.cancel(selfPay.lineId)).toBe(0);
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 0, outstandingCents: 10000, creditCents: 0 });
    expect(led.line(selfPay.lineId)?.status).toBe('CANCELLED');
  });

  it('the $30 refund as ACCOUNT_CREDIT also reopens the line, but the money stays as credit', () => {
    const { led, prId } = start();
    const { paymentId } = expectOk(led.balancePayment(3000, [{ responsibilityId: prId, amountCents: 3000 }]));
    expectOk(led.writeOff(prId, 5000));
    expect(expectOk(led.refund(paymentId, 'ACCOUNT_CREDIT', null))).toMatchObject({ amountCents: 3000, returnsMoney: false });
    expect(led.balance()).toEqual({ responsibilityCents: 10000, paidCents: 0, writtenOffCents: 5000, outstandingCents: 5000, creditCents: 3000 });
    // and the credit can then be paid back with a money-returning refund, touching no line
    expect(expectOk(led.refund(paymentId, 'EXTERNAL_CHECK', null))).toEqual({ amountCents: 3000, returnsMoney: true, takebacks: [] });
    expect(led.balance()).toMatchObject({ outstandingCents: 5000, creditCents: 0 });
  });

  it('a fully paid line cannot be written off until the payment is refunded', () => {
    const { led, prId } = start();
    const { paymentId } = expectOk(led.balancePayment(10000, [{ responsibilityId: prId, amountCents: 10000 }]));
    expect(led.writeOff(prId, 1)).toEqual({ code: 'PR_ALREADY_PAID', message: 'This PR has already been paid. Refund the payment before writing it off.' });
    expectOk(led.refund(paymentId, 'ORIGINAL_CARD', 1));
    expect(expectOk(led.writeOff(prId, 1))).toEqual(expect.any(String));
    expect(led.writeOff(prId, 1)).toEqual({ code: 'NOTHING_TO_WRITE_OFF', message: 'Nothing is left to write off: $99.99 paid and $0.01 written off.' });
  });

  it('a copay collected up front is superseded by the remittance and its money moves to the new copay line', () => {
    const led = new MemoryLedger();
    const chargeId = expectOk(led.createCharge(25000));
    const upFront = expectOk(led.linePayment('COPAY', 3000, chargeId));
    expect(led.line(upFront.lineId)).toMatchObject({ kind: 'COPAY', origin: 'ESTIMATED', paidCents: 3000 });
    expect(led.balance()).toMatchObject({ outstandingCents: 0, creditCents: 0 });
    const { newLineIds, plan } = expectOk(
      led.remit(chargeId, [
        { groupCode: 'PR', reasonCode: '1', amountCents: 5000 },
        { groupCode: 'PR', reasonCode: '3', amountCents: 2000 },
      ]),
    );
    expect(plan.supersededLineIds).toEqual([upFront.lineId]);
    expect(led.line(upFront.lineId)).toMatchObject({ status: 'CANCELLED', paidCents: 0 });
    expect(led.line(newLineIds[1])).toMatchObject({ kind: 'COPAY', paidCents: 2000 });
    expect(led.line(newLineIds[0])).toMatchObject({ kind: 'DEDUCTIBLE', paidCents: 1000 });
    expect(led.balance()).toEqual({ responsibilityCents: 7000, paidCents: 3000, writtenOffCents: 0, outstandingCents: 4000, creditCents: 0 });
  });

  it('a remittance smaller than what was collected leaves the rest as credit', () => {
    const led = new MemoryLedger();
    const chargeId = expectOk(led.createCharge(25000));
    const upFront = expectOk(led.linePayment('COINSURANCE', 5000, chargeId));
    expectOk(led.remit(chargeId, [{ groupCode: 'PR', reasonCode: '2', amountCents: 1200 }]));
    expect(led.balance()).toEqual({ responsibilityCents: 1200, paidCents: 1200, writtenOffCents: 0, outstandingCents: 0, creditCents: 3800 });
    expect(expectOk(led.refund(upFront.paymentId, 'EXTERNAL_CHECK', null))).toMatchObject({ amountCents: 5000 });
    expect(led.balance()).toEqual({ responsibilityCents: 1200, paidCents: 0, writtenOffCents: 0, outstandingCents: 1200, creditCents: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Randomized: thousands of valid and invalid operations, invariants after every step.

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** An amount around a natural limit: boundaries, invalid values and ordinary ones. */
  amount(limit: number): number {
    const x = this.next();
    if (x < 0.03) return 0;
    if (x < 0.05) return -1;
    if (x < 0.08) return this.pick([1.5, Number.NaN, Number.POSITIVE_INFINITY, -0.5, MAX_INPUT_CENTS + 1, -MAX_INPUT_CENTS]);
    if (x < 0.1) return MAX_INPUT_CENTS;
    if (x < 0.25) return Math.max(1, limit);
    if (x < 0.33) return limit + 1;
    if (x < 0.4) return 1;
    return this.int(1, Math.max(1, limit));
  }
}

function checkInvariants(led: MemoryLedger, where: string): void {
  const fail = (what: string, detail: unknown) => {
    throw new Error(`${where}: ${what} ${JSON.stringify(detail)}`);
  };
  const lines = led.lines();
  const payments = led.paymentStates();
  for (const l of lines) if (!lineInvariantHolds(l)) fail('line invariant broken', l);
  for (const p of payments) if (!paymentInvariantHolds(p)) fail('payment invariant broken', p);
  for (const w of led.writeOffs.values()) if (w.activeCents < 0 || w.activeCents > w.amountCents) fail('write-off out of range', w);
  for (const charge of led.charges.values()) {
    const active = lines.filter((l) => l.chargeId === charge.id && l.status === 'ACTIVE').reduce((s, l) => s + l.amountCents, 0);
    if (active > charge.billedCents) fail('PR exceeds charge', { charge, active });
  }

  const b = computeBalance(lines, payments);
  const active = lines.filter((l) => l.status === 'ACTIVE');
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  const responsibility = sum(active.map((l) => l.amountCents));
  const paid = sum(active.map((l) => l.paidCents));
  const writtenOff = sum(active.map((l) => l.writtenOffCents));
  const credit = sum(payments.map((p) => p.amountCents - sum(p.allocations.map((a) => a.remainingCents)) - p.refundedCents));
  if (b.responsibilityCents !== responsibility || b.paidCents !== paid || b.writtenOffCents !== writtenOff) fail('balance totals', { b, responsibility, paid, writtenOff });
  if (b.outstandingCents !== responsibility - paid - writtenOff) fail('outstanding ≠ responsibility − paid − written off', b);
  if (b.creditCents !== credit) fail('credit ≠ Σ unallocated', { b, credit });
  if (b.outstandingCents < 0 || b.creditCents < 0) fail('negative balance', b);
  // every cent of every payment is allocated to an active line, unallocated, or refunded
  const allocatedToActive = sum(payments.flatMap((p) => p.allocations.filter((a) => led.rows.get(a.responsibilityId)?.status === 'ACTIVE').map((a) => a.remainingCents)));
  const refunded = sum(payments.map((p) => p.refundedCents));
  if (sum(payments.map((p) => p.amountCents)) !== allocatedToActive + credit + refunded) fail('money not conserved', { allocatedToActive, credit, refunded });
  if (allocatedToActive !== paid) fail('paid ≠ allocations on active lines', { allocatedToActive, paid });
}

interface RunStats {
  steps: number;
  ok: Record<string, number>;
  codes: Set<string>;
}

const ADJUSTMENT_GROUP_CHOICES = ['PR', 'PR', 'PR', 'pr ', 'CO', 'OA', 'PI', 'XX'];
const REASON_CHOICES = ['1', '2', '3', '96', '204', '45', 'A1', ' 3 ', '', '123456'];
const LINE_PURPOSES = ['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'SELF_PAY'] as const;
const METHODS: RefundMethod[] = ['ACCOUNT_CREDIT', 'ORIGINAL_CARD', 'EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK'];

function runRandom(seed: number, patients: number, stepsPerPatient: number): RunStats {
  const rng = new Rng(seed);
  const stats: RunStats = { steps: 0, ok: {}, codes: new Set() };
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

  for (let patient = 0; patient < patients; patient++) {
    const led = new MemoryLedger();
    for (let step = 0; step < stepsPerPatient; step++) {
      const where = `seed ${seed} patient ${patient} step ${step}`;
      const lines = led.lines();
      const lineIds = lines.map((l) => l.id);
      const chargeIds = [...led.charges.keys()];
      const paymentIds = [...led.payments.keys()];
      const writeOffIds = [...led.writeOffs.keys()];
      const beforeSnapshot = led.snapshot();
      const before = led.balance();

      const op =
        chargeIds.length === 0
          ? 'charge'
          : rng.pick(['charge', 'pay', 'pay', 'pay', 'payLine', 'payLine', 'writeOff', 'writeOff', 'writeOff', 'remove', 'remove', 'cancel', 'cancel', 'refund', 'refund', 'refund', 'remit']);
      const pickLine = () => (rng.chance(0.03) || lineIds.length === 0 ? 'missing' : rng.pick(lineIds));
      // Every method in turn, without drawing from rng (which would change the seeded runs).
      const paidWith = () => PaymentMethods[paymentIds.length % PaymentMethods.length];
      let result: unknown;
      let label = op;

      const expectCode = (code: string | null) => {
        if (code === null) {
          if (isRefusal(result)) throw new Error(`${where} ${op}: expected success, got ${result.code}: ${result.message}`);
        } else if (!isRefusal(result) || result.code !== code) {
          throw new Error(`${where} ${op}: expected ${code}, got ${JSON.stringify(result)}`);
        }
      };

      switch (op) {
        case 'charge': {
          const billed = rng.chance(0.05) ? rng.pick([0, -1, 1.5]) : rng.int(1, 60000);
          const n = rng.int(0, 3);
          const specs = Array.from({ length: n }, () => ({
            kind: rng.pick(['COPAY', 'COINSURANCE', 'DEDUCTIBLE', 'NON_COVERED', 'OTHER', 'CUSTOM'] as ResponsibilityKind[]),
            origin: rng.pick(['REMITTANCE', 'STAFF', 'STAFF', 'ESTIMATED', 'SELF_PAY'] as ResponsibilityOrigin[]),
            amountCents: rng.amount(Math.floor(Math.max(1, billed) / Math.max(1, n))),
          }));
          result = led.createCharge(billed, specs);
          const amounts = specs.map((s) => s.amountCents);
          const expected = !isPositiveCents(billed)
            ? 'INVALID_AMOUNT'
            : amounts.some((a) => !isPositiveCents(a))
              ? 'INVALID_AMOUNT'
              : sum(amounts) > billed
                ? 'PR_EXCEEDS_CHARGE'
                : null;
          expectCode(expected);
          if (!isRefusal(result)) {
            const after = led.balance();
            if (after.outstandingCents !== before.outstandingCents + sum(amounts)) throw new Error(`${where}: new charge did not add its lines`);
          }
          break;
        }

        case 'pay': {
          const n = rng.int(0, 3);
          const map = led.lineMap();
          const requested: RequestedAllocation[] = [];
          for (let i = 0; i < n; i++) {
            const id = pickLine();
            const line = map.get(id);
            requested.push({ responsibilityId: id, amountCents: rng.amount(line ? Math.max(1, openCents(line)) : 1000) });
          }
          const requestedTotal = sum(requested.map((r) => (Number.isFinite(r.amountCents) ? r.amountCents : 0)));
          const amount = rng.chance(0.1) ? rng.amount(5000) : Math.max(1, requestedTotal) + rng.pick([0, 0, 0, -1, 1, rng.int(0, 5000)]);
          result = led.balancePayment(amount, requested, paidWith());
          // independent oracle: first failure wins
          let expected: string | null = null;
          if (!isPositiveCents(amount)) expected = 'INVALID_AMOUNT';
          else {
            const perLine = new Map<string, number>();
            for (const r of requested) {
              const line = map.get(r.responsibilityId);
              if (!line) {
                expected = 'NOT_FOUND';
                break;
              }
              if (!isPositiveCents(r.amountCents)) {
                expected = 'INVALID_AMOUNT';
                break;
              }
              const total = (perLine.get(line.id) ?? 0) + r.amountCents;
              if (total > openCents(line)) {
                expected = 'ALLOCATION_EXCEEDS_OPEN';
                break;
              }
              perLine.set(line.id, total);
            }
            if (expected === null && sum([...perLine.values()]) > amount) expected = 'ALLOCATIONS_EXCEED_PAYMENT';
          }
          expectCode(expected);
          if (!isRefusal(result)) {
            const allocated = sum(requested.map((r) => r.amountCents));
            const after = led.balance();
            if (after.outstandingCents !== before.outstandingCents - allocated) throw new Error(`${where}: payment did not reduce outstanding by its allocations`);
            if (after.creditCents !== before.creditCents + amount - allocated) throw new Error(`${where}: payment remainder did not become credit`);
            const merged = (result as { allocations: RequestedAllocation[] }).allocations;
            if (new Set(merged.map((m) => m.responsibilityId)).size !== merged.length) throw new Error(`${where}: duplicate allocations not merged`);
          }
          break;
        }

        case 'payLine': {
          const purpose = rng.pick(LINE_PURPOSES);
          const chargeId = rng.chance(0.06) ? null : rng.pick(chargeIds);
          const hasAllocations = rng.chance(0.05);
          const room = chargeId ? led.chargeView(chargeId).billedCents - sum(led.chargeView(chargeId).lines.filter((l) => l.status === 'ACTIVE').map((l) => l.amountCents)) : 1000;
          const chargeFull = chargeId !== null && led.chargeView(chargeId).lines.length >= MAX_LINES_PER_CHARGE;
          const amount = rng.amount(Math.max(1, room));
          result = led.linePayment(purpose, amount, chargeId, hasAllocations, paidWith());
          const expected = !isPositiveCents(amount)
            ? 'INVALID_AMOUNT'
            : chargeId === null
              ? 'CHARGE_REQUIRED'
              : hasAllocations
                ? 'ALLOCATION_NOT_ALLOWED'
                : chargeFull
                  ? 'TOO_MANY_ITEMS'
                  : amount > room
                  ? 'PR_EXCEEDS_CHARGE'
                  : null;
          label = `${op}:${purpose}`;
          expectCode(expected);
          if (!isRefusal(result)) {
            const after = led.balance();
            if (after.outstandingCents !== before.outstandingCents || after.creditCents !== before.creditCents) throw new Error(`${where}: a line payment moved the balance`);
            const newLine = led.line((result as { lineId: string }).lineId)!;
            const origin = purpose === 'SELF_PAY' ? 'SELF_PAY' : 'ESTIMATED';
            if (newLine.kind !== purpose || newLine.origin !== origin || newLine.amountCents !== amount || newLine.paidCents !== amount) throw new Error(`${where}: wrong line`);
          }
          break;
        }

        case 'writeOff': {
          const id = pickLine();
          const line = led.line(id);
          const amount = rng.amount(line ? Math.max(1, openCents(line)) : 100);
          const writeOffsBefore = led.writeOffCount(id);
          result = led.writeOff(id, amount);
          if (!line) expectCode('NOT_FOUND');
          else {
            const blocker = writeOffBlocker(line, true) ?? (writeOffsBefore >= MAX_WRITE_OFFS_PER_LINE ? { code: 'TOO_MANY_ITEMS' } : null);
            expectCode(blocker ? blocker.code : !isPositiveCents(amount) ? 'INVALID_AMOUNT' : amount > openCents(line) ? 'WRITE_OFF_EXCEEDS_OPEN' : null);
            if (writeOffBlocker(line, false)?.code !== 'FORBIDDEN') throw new Error(`${where}: FORBIDDEN must come first`);
          }
          if (!isRefusal(result) && led.balance().outstandingCents !== before.outstandingCents - amount) throw new Error(`${where}: write-off did not reduce outstanding`);
          break;
        }

        case 'remove': {
          const id = rng.chance(0.05) || writeOffIds.length === 0 ? 'missing' : rng.pick(writeOffIds);
          const w = led.writeOffs.get(id);
          const amount = rng.chance(0.3) ? null : rng.amount(w ? Math.max(1, w.activeCents) : 100);
          const activeBefore = w?.activeCents ?? 0;
          const lastRemoval = led.removalCount(id) + 1 >= MAX_REMOVALS_PER_WRITE_OFF;
          result = led.removeWriteOff(id, amount);
          if (!w) expectCode('NOT_FOUND');
          else {
            const blocker = removalBlocker({ ...w, activeCents: activeBefore }, true);
            expectCode(
              blocker
                ? blocker.code
                : amount === null
                  ? null
                  : !isPositiveCents(amount)
                    ? 'INVALID_AMOUNT'
                    : amount > activeBefore
                      ? 'REMOVAL_EXCEEDS_ACTIVE'
                      : lastRemoval && amount < activeBefore
                        ? 'TOO_MANY_ITEMS'
                        : null,
            );
          }
          if (!isRefusal(result)) {
            const removed = amount ?? activeBefore;
            if (result !== removed) throw new Error(`${where}: removal removed ${String(result)} not ${removed}`);
            if (led.balance().outstandingCents !== before.outstandingCents + removed) throw new Error(`${where}: removal did not reopen the line`);
          }
          break;
        }

        case 'cancel': {
          const id = pickLine();
          const line = led.line(id);
          result = led.cancel(id);
          if (!line) expectCode('NOT_FOUND');
          else {
            const blocker = cancelBlocker(line, true);
            expectCode(blocker ? blocker.code : null);
          }
          if (!isRefusal(result)) {
            const after = led.balance();
            if (result !== line!.paidCents) throw new Error(`${where}: cancel released ${String(result)}, line had ${line!.paidCents} paid`);
            if (after.outstandingCents !== before.outstandingCents - openCents(line!)) throw new Error(`${where}: cancel did not remove the line from outstanding`);
            if (after.creditCents !== before.creditCents + line!.paidCents) throw new Error(`${where}: cancel did not release payments to credit`);
            if (after.responsibilityCents !== before.responsibilityCents - line!.amountCents) throw new Error(`${where}: cancelled line still counted`);
          }
          break;
        }

        case 'refund': {
          const id = rng.chance(0.04) || paymentIds.length === 0 ? 'missing' : rng.pick(paymentIds);
          const p = led.paymentStates().find((x) => x.id === id);
          const method = rng.pick(METHODS);
          const returns = method !== 'ACCOUNT_CREDIT';
          const allocated = p ? sum(p.allocations.map((a) => a.remainingCents)) : 0;
          const limit = p ? (returns ? refundableCents(p) : allocated) : 0;
          const amount = rng.chance(0.3) ? null : rng.amount(Math.max(1, limit));
          const refundsBefore = led.payments.get(id)?.refundCount ?? 0;
          result = led.refund(id, method, amount);
          label = `${op}:${returns ? 'money' : 'credit'}`;
          if (!p) expectCode('NOT_FOUND');
          else {
            const paidWith = led.payments.get(id)!.method;
            const blocker =
              refundBlocker(p, true) ??
              (refundsBefore >= MAX_REFUNDS_PER_PAYMENT ? { code: 'TOO_MANY_ITEMS' } : null) ??
              (method === 'ORIGINAL_CARD' && paidWith !== 'CARD' ? { code: 'REFUND_METHOD_NOT_ALLOWED' } : null);
            expectCode(
              blocker
                ? blocker.code
                : amount !== null && !isPositiveCents(amount)
                  ? 'INVALID_AMOUNT'
                  : (amount ?? limit) > limit || limit <= 0
                    ? 'REFUND_EXCEEDS_REFUNDABLE'
                    : null,
            );
          }
          if (!isRefusal(result)) {
            const plan = result as ledger.RefundPlan;
            const unallocatedBefore = p!.amountCents - allocated - p!.refundedCents;
            if (plan.amountCents !== (amount ?? limit)) throw new Error(`${where}: refund default amount`);
            const taken = sum(plan.takebacks.map((t) => t.cents));
            if (taken !== (returns ? Math.max(0, plan.amountCents - unallocatedBefore) : plan.amountCents)) throw new Error(`${where}: takebacks add up to ${taken}`);
            // newest first: once an allocation is only partly taken, no older one is touched; every newer one is emptied
            const bySeq = [...p!.allocations].sort((a, b) => b.sequence - a.sequence).filter((a) => a.remainingCents > 0);
            const takenBy = new Map(plan.takebacks.map((t) => [t.allocationId, t.cents]));
            let partial = false;
            for (const a of bySeq) {
              const t = takenBy.get(a.id) ?? 0;
              if (partial && t > 0) throw new Error(`${where}: refund skipped a newer allocation`);
              if (t < a.remainingCents) partial = true;
            }
            const after = led.balance();
            const after_p = led.paymentStates().find((x) => x.id === id)!;
            if (after.outstandingCents !== before.outstandingCents + taken) throw new Error(`${where}: refund did not reopen lines`);
            if (returns) {
              if (after_p.refundedCents !== p!.refundedCents + plan.amountCents) throw new Error(`${where}: refundedCents`);
              if (after.creditCents !== before.creditCents - (plan.amountCents - taken)) throw new Error(`${where}: credit after money refund`);
            } else {
              if (after_p.refundedCents !== p!.refundedCents) throw new Error(`${where}: credit refund changed refundedCents`);
              if (after.creditCents !== before.creditCents + plan.amountCents) throw new Error(`${where}: credit after credit move`);
            }
          }
          break;
        }

        case 'remit': {
          const chargeId = rng.pick(chargeIds);
          const view = led.chargeView(chargeId);
          const n = rng.int(0, 3);
          const adjustments: Adjustment[] = Array.from({ length: n }, () => ({
            groupCode: rng.pick(ADJUSTMENT_GROUP_CHOICES),
            reasonCode: rng.chance(0.9) ? rng.pick(REASON_CHOICES.slice(0, 8)) : rng.pick(REASON_CHOICES),
            amountCents: rng.chance(0.05) ? rng.pick([0, -5, 2.5]) : rng.int(1, Math.max(1, Math.floor(view.billedCents / 3))),
          }));
          const superseded = view.lines.filter((l) => l.status === 'ACTIVE' && l.origin === 'ESTIMATED');
          const kept = view.lines.filter((l) => l.status === 'ACTIVE' && l.origin !== 'ESTIMATED');
          result = led.remit(chargeId, adjustments);
          const badAdjustment = adjustments.find(
            (a) => !['PR', 'CO', 'OA', 'PI'].includes(a.groupCode.trim().toUpperCase()) || !/^[A-Z0-9]{1,5}$/.test(a.reasonCode.trim().toUpperCase()) || !isPositiveCents(a.amountCents),
          );
          const prTotal = sum(adjustments.filter((a) => a.groupCode.trim().toUpperCase() === 'PR').map((a) => a.amountCents));
          if (badAdjustment) {
            if (!isRefusal(result) || !['INVALID_REMITTANCE', 'INVALID_AMOUNT'].includes(result.code)) throw new Error(`${where}: bad adjustment accepted`);
          } else {
            const prCount = adjustments.filter((a) => a.groupCode.trim().toUpperCase() === 'PR').length;
            expectCode(
              view.lines.length + prCount > MAX_LINES_PER_CHARGE ? 'TOO_MANY_ITEMS' : sum(kept.map((l) => l.amountCents)) + prTotal > view.billedCents ? 'PR_EXCEEDS_CHARGE' : null,
            );
          }
          if (!isRefusal(result)) {
            const { plan, newLineIds } = result as { plan: ledger.RemittancePlan; newLineIds: string[] };
            if (newLineIds.length !== adjustments.filter((a) => a.groupCode.trim().toUpperCase() === 'PR').length) throw new Error(`${where}: wrong number of new lines`);
            if (JSON.stringify([...plan.supersededLineIds].sort()) !== JSON.stringify(superseded.map((l) => l.id).sort())) throw new Error(`${where}: wrong superseded lines`);
            const reduced = sum(plan.reductions.map((r) => r.cents));
            const moved = sum(plan.moves.map((m) => m.cents));
            if (reduced !== sum(superseded.map((l) => l.paidCents))) throw new Error(`${where}: not all money taken off superseded lines`);
            if (moved > reduced) throw new Error(`${where}: moved more than was taken`);
            const after = led.balance();
            if (after.creditCents !== before.creditCents + reduced - moved) throw new Error(`${where}: remittance credit`);
            if (moved < reduced) {
              // what did not fit stays as credit only when every line of the charge is full
              const full = led.chargeView(chargeId).lines.filter((l) => l.status === 'ACTIVE').every((l) => openCents(l) === 0);
              if (!full) throw new Error(`${where}: money left as credit while a line of the charge still had room`);
            }
          }
          break;
        }
      }

      if (isRefusal(result)) {
        stats.codes.add(result.code);
        if (typeof result.message !== 'string' || result.message.length === 0) throw new Error(`${where}: refusal without a message`);
        if (led.snapshot() !== beforeSnapshot) throw new Error(`${where}: a refused ${op} changed the ledger`);
      } else {
        stats.ok[label] = (stats.ok[label] ?? 0) + 1;
      }
      checkInvariants(led, `${where} after ${label}`);
      stats.steps++;
    }
  }
  return stats;
}

describe('randomized ledger run (seeded mulberry32)', () => {
  it.each([1, 7, 2024, 0xc0ffee])('seed %p: invariants hold after every one of thousands of operations', (seed) => {
    const stats = runRandom(seed, 6, 500);
    expect(stats.steps).toBe(3000);
    // The run must actually have exercised the rules, both ways.
    for (const label of ['charge', 'pay', 'writeOff', 'remove', 'cancel', 'refund:money', 'refund:credit', 'remit', 'payLine:COPAY', 'payLine:SELF_PAY']) {
      expect(stats.ok[label] ?? 0).toBeGreaterThan(5);
    }
    for (const code of [
      'INVALID_AMOUNT',
      'NOT_FOUND',
      'PR_CANCELLED',
      'PR_ALREADY_PAID',
      'PR_ALREADY_WRITTEN_OFF',
      'NOTHING_TO_WRITE_OFF',
      'PR_FROM_REMITTANCE',
      'PR_HAS_WRITE_OFFS',
      'NOTHING_TO_REMOVE',
      'NOTHING_TO_REFUND',
      'WRITE_OFF_EXCEEDS_OPEN',
      'REMOVAL_EXCEEDS_ACTIVE',
      'ALLOCATION_EXCEEDS_OPEN',
      'ALLOCATIONS_EXCEED_PAYMENT',
      'REFUND_EXCEEDS_REFUNDABLE',
      'REFUND_METHOD_NOT_ALLOWED',
      'PR_EXCEEDS_CHARGE',
      'CHARGE_REQUIRED',
      'ALLOCATION_NOT_ALLOWED',
      'INVALID_REMITTANCE',
    ]) {
      expect([...stats.codes]).toContain(code);
    }
  });
});

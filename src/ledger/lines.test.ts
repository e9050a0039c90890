import { allocatedCents, creditOf, lineInvariantHolds, newestFirst, openCents, paymentInvariantHolds, unallocatedCents } from './lines';
import { AllocationState, LineState, PaymentState } from './types';

function line(over: Partial<LineState> = {}): LineState {
  return { id: 'L1', chargeId: 'C1', kind: 'COPAY', origin: 'REMITTANCE', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function alloc(id: string, remainingCents: number, sequence: number, responsibilityId = 'L1'): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}
function payment(amountCents: number, allocations: AllocationState[] = [], refundedCents = 0, voidedCents = 0): PaymentState {
  return { id: 'P1', amountCents, refundedCents, voidedCents, allocations };
}

describe('openCents', () => {
  it('is amount − paid − written off for an active line', () => {
    expect(openCents(line())).toBe(10000);
    expect(openCents(line({ paidCents: 3000 }))).toBe(7000);
    expect(openCents(line({ writtenOffCents: 5000 }))).toBe(5000);
    expect(openCents(line({ paidCents: 3000, writtenOffCents: 5000 }))).toBe(2000);
    expect(openCents(line({ paidCents: 3000, writtenOffCents: 7000 }))).toBe(0);
    expect(openCents(line({ amountCents: 1 }))).toBe(1);
  });

  it('is 0 for a cancelled line, whatever its numbers', () => {
    expect(openCents(line({ status: 'CANCELLED' }))).toBe(0);
    expect(openCents(line({ status: 'CANCELLED', paidCents: 100 }))).toBe(0);
  });

  it('is 0 for a reversed line, whatever its numbers (docs/design.md §8.3)', () => {
    expect(openCents(line({ status: 'REVERSED' }))).toBe(0);
    expect(openCents(line({ status: 'REVERSED', paidCents: 100, writtenOffCents: 200 }))).toBe(0);
    expect(openCents(line({ status: 'REVERSED', paidCents: 20000 }))).toBe(0);
  });

  it('does not clamp a (broken) over-covered active line: the invariant check catches that', () => {
    expect(openCents(line({ paidCents: 8000, writtenOffCents: 3000 }))).toBe(-1000);
  });
});

describe('lineInvariantHolds', () => {
  it.each([
    ['untouched', {}],
    ['partly paid', { paidCents: 1 }],
    ['fully paid', { paidCents: 10000 }],
    ['fully written off', { writtenOffCents: 10000 }],
    ['paid + written off = amount', { paidCents: 3000, writtenOffCents: 7000 }],
    ['paid + written off = amount − 1', { paidCents: 2999, writtenOffCents: 7000 }],
    ['cancelled and empty', { status: 'CANCELLED' as const }],
    ['reversed and empty', { status: 'REVERSED' as const }],
  ])('holds when %s', (_name, over) => {
    expect(lineInvariantHolds(line(over))).toBe(true);
  });

  it.each([
    ['paid + written off = amount + 1', { paidCents: 3001, writtenOffCents: 7000 }],
    ['overpaid', { paidCents: 10001 }],
    ['over-written-off', { writtenOffCents: 10001 }],
    ['negative paid', { paidCents: -1 }],
    ['negative written off', { writtenOffCents: -1 }],
    ['negative paid even if the sum is fine', { paidCents: -1, writtenOffCents: 5 }],
    ['cancelled with money on it', { status: 'CANCELLED' as const, paidCents: 1 }],
    ['cancelled with a write-off on it', { status: 'CANCELLED' as const, writtenOffCents: 1 }],
    ['cancelled with negative paid', { status: 'CANCELLED' as const, paidCents: -1 }],
    ['reversed with money on it', { status: 'REVERSED' as const, paidCents: 1 }],
    ['reversed with a write-off on it', { status: 'REVERSED' as const, writtenOffCents: 1 }],
    ['reversed with negative paid', { status: 'REVERSED' as const, paidCents: -1 }],
    ['reversed and fully paid', { status: 'REVERSED' as const, paidCents: 10000 }],
  ])('fails when %s', (_name, over) => {
    expect(lineInvariantHolds(line(over))).toBe(false);
  });
});

describe('allocatedCents / unallocatedCents', () => {
  it('sums remaining allocations and leaves the rest as credit', () => {
    const p = payment(10000, [alloc('A1', 3000, 1), alloc('A2', 2500, 2, 'L2'), alloc('A3', 0, 3)], 1000);
    expect(allocatedCents(p)).toBe(5500);
    expect(unallocatedCents(p)).toBe(10000 - 5500 - 1000);
  });

  it('treats a payment with no allocations as all credit', () => {
    expect(allocatedCents(payment(4200))).toBe(0);
    expect(unallocatedCents(payment(4200))).toBe(4200);
    expect(unallocatedCents(payment(4200, [], 4200))).toBe(0);
  });
});

describe('creditOf / unallocatedCents: the void term (docs/design.md §8.2)', () => {
  it('is amount − allocated − refunded − voided', () => {
    expect(creditOf({ amountCents: 10000, allocatedCents: 3000, refundedCents: 1000, voidedCents: 0 })).toBe(6000);
    expect(creditOf({ amountCents: 10000, allocatedCents: 3000, refundedCents: 1000, voidedCents: 6000 })).toBe(0);
    expect(creditOf({ amountCents: 10000, allocatedCents: 0, refundedCents: 0, voidedCents: 10000 })).toBe(0);
    expect(creditOf({ amountCents: 10000, allocatedCents: 0, refundedCents: 0, voidedCents: 1 })).toBe(9999);
  });

  it('does not clamp: more taken than paid shows as negative credit, for the invariant to catch', () => {
    expect(creditOf({ amountCents: 10000, allocatedCents: 0, refundedCents: 0, voidedCents: 10001 })).toBe(-1);
  });

  it('unallocatedCents subtracts the payment’s voidedCents', () => {
    expect(unallocatedCents(payment(10000, [], 0, 10000))).toBe(0);
    expect(unallocatedCents(payment(10000, [alloc('A1', 0, 1)], 0, 10000))).toBe(0);
    expect(unallocatedCents(payment(10000, [alloc('A1', 2500, 1)], 500, 0))).toBe(7000);
    expect(unallocatedCents(payment(10000, [alloc('A1', 2500, 1)], 500))).toBe(7000);
    // a (broken) void that left money allocated
    expect(unallocatedCents(payment(10000, [alloc('A1', 2500, 1)], 0, 10000))).toBe(-2500);
  });
});

describe('paymentInvariantHolds', () => {
  it('holds when amount = allocated + unallocated + refunded with nothing negative', () => {
    expect(paymentInvariantHolds(payment(100))).toBe(true);
    expect(paymentInvariantHolds(payment(100, [alloc('A', 100, 1)]))).toBe(true);
    expect(paymentInvariantHolds(payment(100, [], 100))).toBe(true);
    expect(paymentInvariantHolds(payment(100, [alloc('A', 60, 1)], 40))).toBe(true);
    expect(paymentInvariantHolds(payment(100, [alloc('A', 0, 1)], 0))).toBe(true);
  });

  it('fails when more is allocated and refunded than was paid', () => {
    expect(paymentInvariantHolds(payment(100, [alloc('A', 101, 1)]))).toBe(false);
    expect(paymentInvariantHolds(payment(100, [], 101))).toBe(false);
    expect(paymentInvariantHolds(payment(100, [alloc('A', 60, 1)], 41))).toBe(false);
  });

  it('fails on a negative allocation or refund even when the total works out', () => {
    expect(paymentInvariantHolds(payment(100, [alloc('A', -10, 1), alloc('B', 50, 2)]))).toBe(false);
    expect(paymentInvariantHolds(payment(100, [alloc('A', 50, 1)], -10))).toBe(false);
  });

  describe('with a void: amount = allocated + unallocated + refunded + voided, and a void leaves nothing (§8.2)', () => {
    it('holds for a voided payment with nothing allocated and no credit left', () => {
      expect(paymentInvariantHolds(payment(100, [], 0, 100))).toBe(true);
      expect(paymentInvariantHolds(payment(100, [alloc('A', 0, 1), alloc('B', 0, 2)], 0, 100))).toBe(true);
      // the equation with a refund beside the void
      expect(paymentInvariantHolds(payment(100, [alloc('A', 0, 1)], 30, 70))).toBe(true);
    });

    it('holds for a payment that stands (voidedCents 0, the default of the fixture)', () => {
      expect(paymentInvariantHolds(payment(100, [alloc('A', 60, 1)], 0, 0))).toBe(true);
      expect(paymentInvariantHolds(payment(100, [alloc('A', 60, 1)]))).toBe(true);
    });

    it('fails for a voided payment with money still allocated, even 1 cent, even when the sum works out', () => {
      expect(paymentInvariantHolds(payment(100, [alloc('A', 1, 1)], 0, 99))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [alloc('A', 50, 1)], 0, 50))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [alloc('A', 100, 1)], 0, 100))).toBe(false);
    });

    it('fails for a voided payment with credit left, even 1 cent', () => {
      expect(paymentInvariantHolds(payment(100, [], 0, 99))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [], 30, 69))).toBe(false);
    });

    it('fails when more is voided than is left, or the void is negative', () => {
      expect(paymentInvariantHolds(payment(100, [], 0, 101))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [], 30, 71))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [], 0, -1))).toBe(false);
      expect(paymentInvariantHolds(payment(100, [alloc('A', 101, 1)], 0, -1))).toBe(false);
    });
  });
});

describe('newestFirst', () => {
  it('orders by sequence, largest first, without touching the input', () => {
    const input = [alloc('A', 1, 5), alloc('B', 1, 20), alloc('C', 1, 1), alloc('D', 1, 7)];
    const copy = input.map((a) => ({ ...a }));
    const sorted = newestFirst(input);
    expect(sorted.map((a) => a.id)).toEqual(['B', 'D', 'A', 'C']);
    expect(input).toEqual(copy);
    expect(sorted).not.toBe(input);
  });

  it('handles empty and frozen input', () => {
    expect(newestFirst([])).toEqual([]);
    const frozen = Object.freeze([alloc('A', 1, 1), alloc('B', 1, 2)]);
    expect(newestFirst(frozen).map((a) => a.id)).toEqual(['B', 'A']);
  });
});

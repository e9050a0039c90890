import { allocatedCents, lineInvariantHolds, newestFirst, openCents, paymentInvariantHolds, unallocatedCents } from './lines';
import { AllocationState, LineState, PaymentState } from './types';

function line(over: Partial<LineState> = {}): LineState {
  return { id: 'L1', chargeId: 'C1', kind: 'COPAY', origin: 'REMITTANCE', status: 'ACTIVE', amountCents: 10000, paidCents: 0, writtenOffCents: 0, ...over };
}
function alloc(id: string, remainingCents: number, sequence: number, responsibilityId = 'L1'): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}
function payment(amountCents: number, allocations: AllocationState[] = [], refundedCents = 0): PaymentState {
  return { id: 'P1', amountCents, refundedCents, allocations };
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

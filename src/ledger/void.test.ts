import { planVoid, voidBlocker } from './void';
import { paymentInvariantHolds, unallocatedCents } from './lines';
import { planRefund } from './refund';
import { AllocationState, PaymentState } from './types';

function alloc(id: string, remainingCents: number, sequence: number, responsibilityId = `L-${id}`): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}
function payment(amountCents: number, allocations: AllocationState[] = [], refundedCents = 0, voidedCents = 0): PaymentState {
  return { id: 'P1', amountCents, refundedCents, voidedCents, allocations };
}

/** The payment once the plan is applied: releases taken off, the void recorded. */
function applied(p: PaymentState): PaymentState {
  const plan = planVoid(p);
  if ('code' in plan) throw new Error(plan.message);
  const released = new Map(plan.releases.map((r) => [r.allocationId, r.cents]));
  return {
    ...p,
    voidedCents: p.voidedCents + plan.voidedCents,
    allocations: p.allocations.map((a) => ({ ...a, remainingCents: a.remainingCents - (released.get(a.id) ?? 0) })),
  };
}

const VOIDED = { code: 'PAYMENT_VOIDED', message: 'This payment was voided.' };
const HAS_REFUNDS = { code: 'PAYMENT_HAS_REFUNDS', message: 'Money was already refunded from this payment, so it cannot be voided.' };

describe('voidBlocker (docs/design.md §8.2)', () => {
  it('allows a payment that stands (voidedCents 0) and returned nothing', () => {
    expect(voidBlocker({ refundedCents: 0, voidedCents: 0 })).toBeNull();
  });

  it('PAYMENT_VOIDED when already void, even by 1 cent', () => {
    expect(voidBlocker({ refundedCents: 0, voidedCents: 10000 })).toEqual(VOIDED);
    expect(voidBlocker({ refundedCents: 0, voidedCents: 1 })).toEqual(VOIDED);
  });

  it('PAYMENT_HAS_REFUNDS once any money was returned, even 1 cent', () => {
    expect(voidBlocker({ refundedCents: 1, voidedCents: 0 })).toEqual(HAS_REFUNDS);
    expect(voidBlocker({ refundedCents: 10000, voidedCents: 0 })).toEqual(HAS_REFUNDS);
  });

  it('PAYMENT_VOIDED comes before PAYMENT_HAS_REFUNDS', () => {
    expect(voidBlocker({ refundedCents: 3000, voidedCents: 7000 })).toEqual(VOIDED);
  });
});

describe('planVoid (docs/design.md §8.2)', () => {
  it('voids the whole amount of a payment that is all credit, releasing nothing', () => {
    expect(planVoid(payment(5000))).toEqual({ releases: [], voidedCents: 5000 });
    expect(planVoid(payment(1))).toEqual({ releases: [], voidedCents: 1 });
  });

  it('releases every allocation that still holds money, in the payment’s order, and voids the whole amount', () => {
    const p = payment(10000, [alloc('A1', 3000, 1), alloc('A2', 4000, 9), alloc('A3', 1000, 5)]);
    expect(planVoid(p)).toEqual({
      releases: [
        { allocationId: 'A1', cents: 3000 },
        { allocationId: 'A2', cents: 4000 },
        { allocationId: 'A3', cents: 1000 },
      ],
      voidedCents: 10000,
    });
  });

  it('does not release emptied allocations', () => {
    const p = payment(5000, [alloc('A1', 0, 1), alloc('A2', 2000, 2), alloc('A3', 0, 3)]);
    expect(planVoid(p)).toEqual({ releases: [{ allocationId: 'A2', cents: 2000 }], voidedCents: 5000 });
  });

  it('is allowed after ACCOUNT_CREDIT refunds: they return nothing, so the money is all still in the ledger', () => {
    const p = payment(10000, [alloc('A1', 3000, 1), alloc('A2', 4000, 2)]);
    const moved = planRefund({ ...p, method: 'CARD' }, 0, 'ACCOUNT_CREDIT', 5000);
    if ('code' in moved) throw new Error(moved.message);
    const afterMove = payment(
      10000,
      p.allocations.map((a) => ({ ...a, remainingCents: a.remainingCents - (moved.takebacks.find((t) => t.allocationId === a.id)?.cents ?? 0) })),
    );
    expect(afterMove.allocations.map((a) => a.remainingCents)).toEqual([2000, 0]);
    expect(planVoid(afterMove)).toEqual({ releases: [{ allocationId: 'A1', cents: 2000 }], voidedCents: 10000 });
  });

  it('PAYMENT_HAS_REFUNDS when money was returned, however little, whatever is still allocated', () => {
    expect(planVoid(payment(10000, [], 1))).toEqual(HAS_REFUNDS);
    expect(planVoid(payment(10000, [alloc('A1', 5000, 1)], 5000))).toEqual(HAS_REFUNDS);
    expect(planVoid(payment(10000, [alloc('A1', 0, 1)], 10000))).toEqual(HAS_REFUNDS);
  });

  it('PAYMENT_VOIDED when already void, before PAYMENT_HAS_REFUNDS', () => {
    expect(planVoid(payment(10000, [], 0, 10000))).toEqual(VOIDED);
    expect(planVoid(payment(10000, [alloc('A1', 0, 1)], 0, 10000))).toEqual(VOIDED);
    expect(planVoid(payment(10000, [], 2000, 8000))).toEqual(VOIDED);
  });

  it('leaves the payment with nothing allocated, no credit, and the §8.2 equation holding', () => {
    for (const p of [
      payment(10000),
      payment(10000, [alloc('A1', 10000, 1)]),
      payment(10000, [alloc('A1', 2500, 1), alloc('A2', 0, 2), alloc('A3', 4000, 3)]),
      payment(10000, [], 0, 0),
    ]) {
      const after = applied(p);
      expect(after.voidedCents).toBe(10000);
      expect(after.allocations.every((a) => a.remainingCents === 0)).toBe(true);
      expect(unallocatedCents(after)).toBe(0);
      expect(paymentInvariantHolds(after)).toBe(true);
      // and once void, it cannot be voided again
      expect(planVoid(after)).toEqual(VOIDED);
    }
  });

  it('does not modify the payment', () => {
    const p = Object.freeze({ ...payment(5000), allocations: Object.freeze([Object.freeze(alloc('A1', 2000, 1))]) }) as PaymentState;
    expect(planVoid(p)).toEqual({ releases: [{ allocationId: 'A1', cents: 2000 }], voidedCents: 5000 });
    expect(p.allocations[0].remainingCents).toBe(2000);
    expect(p.voidedCents).toBe(0);
  });
});

import { RefundablePayment, planRefund } from './refund';
import { MAX_INPUT_CENTS } from './money';
import { AllocationState, PaymentMethod, RefundMethod } from './types';

function alloc(id: string, remainingCents: number, sequence: number, responsibilityId = `L-${id}`): AllocationState {
  return { id, responsibilityId, remainingCents, sequence };
}
function payment(amountCents: number, allocations: AllocationState[] = [], refundedCents = 0, method: PaymentMethod = 'CARD'): RefundablePayment {
  return { id: 'P1', amountCents, refundedCents, voidedCents: 0, allocations, method };
}

const RETURNING: RefundMethod[] = ['ORIGINAL_CARD', 'EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK'];
const AMOUNT = ['input', 'amountCents'];
const NOTHING_TO_REFUND = { code: 'NOTHING_TO_REFUND', message: 'This payment has already been fully refunded.' };
const INVALID = {
  code: 'INVALID_AMOUNT',
  message: 'Enter a refund amount greater than $0.00, or leave it empty to refund all that can be.',
  field: AMOUNT,
};

// $100 payment: $20 credit, A1 $30 (oldest), A2 $40 (newest), A3 $10 (middle), $0 refunded.
const mixed = () => payment(10000, [alloc('A1', 3000, 1), alloc('A2', 4000, 9), alloc('A3', 1000, 5)]);

describe('planRefund: money-returning methods', () => {
  it.each(RETURNING)('%s takes unallocated money first, with no takebacks when credit covers it', (method) => {
    expect(planRefund(mixed(), 0, method, 2000)).toEqual({ amountCents: 2000, returnsMoney: true, takebacks: [] });
    expect(planRefund(mixed(), 0, method, 1)).toEqual({ amountCents: 1, returnsMoney: true, takebacks: [] });
  });

  it.each(RETURNING)('%s then takes allocations newest first', (method) => {
    expect(planRefund(mixed(), 0, method, 2001)).toEqual({
      amountCents: 2001,
      returnsMoney: true,
      takebacks: [{ allocationId: 'A2', responsibilityId: 'L-A2', cents: 1 }],
    });
    expect(planRefund(mixed(), 0, method, 6500)).toEqual({
      amountCents: 6500,
      returnsMoney: true,
      takebacks: [
        { allocationId: 'A2', responsibilityId: 'L-A2', cents: 4000 },
        { allocationId: 'A3', responsibilityId: 'L-A3', cents: 500 },
      ],
    });
  });

  it.each(RETURNING)('%s with no amount refunds all that is refundable (amount − refunded)', (method) => {
    const expected = {
      amountCents: 10000,
      returnsMoney: true,
      takebacks: [
        { allocationId: 'A2', responsibilityId: 'L-A2', cents: 4000 },
        { allocationId: 'A3', responsibilityId: 'L-A3', cents: 1000 },
        { allocationId: 'A1', responsibilityId: 'L-A1', cents: 3000 },
      ],
    };
    expect(planRefund(mixed(), 0, method, null)).toEqual(expected);
    expect(planRefund(mixed(), 0, method, undefined)).toEqual(expected);
    expect(planRefund(mixed(), 0, method, 10000)).toEqual(expected);
  });

  it('limit is amount − refunded: exactly that is fine, one cent more is REFUND_EXCEEDS_REFUNDABLE', () => {
    const p = payment(10000, [alloc('A1', 5000, 1)], 2500); // $25 credit, $50 allocated, $25 refunded
    expect(planRefund(p, 0, 'EXTERNAL_CHECK', 7500)).toEqual({
      amountCents: 7500,
      returnsMoney: true,
      takebacks: [{ allocationId: 'A1', responsibilityId: 'L-A1', cents: 5000 }],
    });
    expect(planRefund(p, 0, 'EXTERNAL_CHECK', 7501)).toEqual({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      message: 'You can refund at most $75.00 of this payment.',
      field: AMOUNT,
    });
    expect(planRefund(p, 0, 'ORIGINAL_CARD', MAX_INPUT_CENTS)).toMatchObject({ code: 'REFUND_EXCEEDS_REFUNDABLE', message: 'You can refund at most $75.00 of this payment.' });
  });

  it('pays back pure credit (nothing allocated)', () => {
    expect(planRefund(payment(5000), 0, 'EXTERNAL_CASH_OR_CARD', null)).toEqual({ amountCents: 5000, returnsMoney: true, takebacks: [] });
  });

  it('skips allocations already emptied', () => {
    const p = payment(5000, [alloc('A1', 2000, 1), alloc('A2', 0, 2), alloc('A3', 3000, 3)]);
    expect(planRefund(p, 0, 'ORIGINAL_CARD', 4000)).toEqual({
      amountCents: 4000,
      returnsMoney: true,
      takebacks: [
        { allocationId: 'A3', responsibilityId: 'L-A3', cents: 3000 },
        { allocationId: 'A1', responsibilityId: 'L-A1', cents: 1000 },
      ],
    });
  });

  it('refunds a MAX_INPUT_CENTS payment in full by default', () => {
    expect(planRefund(payment(MAX_INPUT_CENTS, [alloc('A1', MAX_INPUT_CENTS - 1, 1)]), 0, 'EXTERNAL_CHECK', null)).toEqual({
      amountCents: MAX_INPUT_CENTS,
      returnsMoney: true,
      takebacks: [{ allocationId: 'A1', responsibilityId: 'L-A1', cents: MAX_INPUT_CENTS - 1 }],
    });
  });

  it('formats large limits with thousands separators', () => {
    expect(planRefund(payment(123456789), 0, 'EXTERNAL_CHECK', 123456790)).toMatchObject({
      message: 'You can refund at most $1,234,567.89 of this payment.',
    });
  });
});

describe('planRefund: ACCOUNT_CREDIT', () => {
  it('moves money off allocations newest first into credit; nothing is returned', () => {
    expect(planRefund(mixed(), 0, 'ACCOUNT_CREDIT', 4500)).toEqual({
      amountCents: 4500,
      returnsMoney: false,
      takebacks: [
        { allocationId: 'A2', responsibilityId: 'L-A2', cents: 4000 },
        { allocationId: 'A3', responsibilityId: 'L-A3', cents: 500 },
      ],
    });
  });

  it('does not consume unallocated money first: even 1 cent comes off the newest allocation', () => {
    expect(planRefund(mixed(), 0, 'ACCOUNT_CREDIT', 1)).toEqual({
      amountCents: 1,
      returnsMoney: false,
      takebacks: [{ allocationId: 'A2', responsibilityId: 'L-A2', cents: 1 }],
    });
  });

  it('defaults to everything allocated', () => {
    expect(planRefund(mixed(), 0, 'ACCOUNT_CREDIT', null)).toEqual({
      amountCents: 8000,
      returnsMoney: false,
      takebacks: [
        { allocationId: 'A2', responsibilityId: 'L-A2', cents: 4000 },
        { allocationId: 'A3', responsibilityId: 'L-A3', cents: 1000 },
        { allocationId: 'A1', responsibilityId: 'L-A1', cents: 3000 },
      ],
    });
  });

  it('limit is what is allocated: exactly that is fine, one cent more is refused', () => {
    expect(planRefund(mixed(), 0, 'ACCOUNT_CREDIT', 8000)).toMatchObject({ amountCents: 8000, returnsMoney: false });
    expect(planRefund(mixed(), 0, 'ACCOUNT_CREDIT', 8001)).toEqual({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      message: 'You can move at most $80.00 of this payment to credit: that is what is applied to PR.',
      field: AMOUNT,
    });
  });

  it('refuses when nothing is allocated, with or without an amount', () => {
    const none = {
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      message: 'None of this payment is applied to PR, so there is nothing to move to credit. It is already credit.',
      field: AMOUNT,
    };
    expect(planRefund(payment(5000), 0, 'ACCOUNT_CREDIT', null)).toEqual(none);
    expect(planRefund(payment(5000), 0, 'ACCOUNT_CREDIT', 1)).toEqual(none);
    expect(planRefund(payment(5000, [alloc('A1', 0, 1)], 1000), 0, 'ACCOUNT_CREDIT', undefined)).toEqual(none);
  });
});

describe('planRefund: refusals and their order', () => {
  const full = payment(5000, [alloc('A1', 0, 1)], 5000);

  it.each([...RETURNING, 'ACCOUNT_CREDIT' as RefundMethod])('NOTHING_TO_REFUND for a fully refunded payment (%s), before the amount', (method) => {
    expect(planRefund(full, 0, method, null)).toEqual(NOTHING_TO_REFUND);
    expect(planRefund(full, 0, method, 0)).toEqual(NOTHING_TO_REFUND);
    expect(planRefund(full, 0, method, 1)).toEqual(NOTHING_TO_REFUND);
  });

  it.each([0, -1, -100, 0.5, 99.99, Number.NaN, Number.POSITIVE_INFINITY, MAX_INPUT_CENTS + 1])('INVALID_AMOUNT for %p, before the limit', (amount) => {
    for (const method of [...RETURNING, 'ACCOUNT_CREDIT' as RefundMethod]) {
      expect(planRefund(mixed(), 0, method, amount)).toEqual(INVALID);
      // also for a payment where ACCOUNT_CREDIT would hit its zero limit
      expect(planRefund(payment(5000), 0, method, amount)).toEqual(INVALID);
    }
  });

  it.each([...RETURNING, 'ACCOUNT_CREDIT' as RefundMethod])('PAYMENT_VOIDED for a voided payment (%s), before the amount and the cap (docs/design.md §8.2)', (method) => {
    const voided: RefundablePayment = { ...payment(5000, [alloc('A1', 0, 1)]), voidedCents: 5000 };
    const refusal = { code: 'PAYMENT_VOIDED', message: 'This payment was voided.' };
    expect(planRefund(voided, 0, method, null)).toEqual(refusal);
    expect(planRefund(voided, 0, method, 0)).toEqual(refusal);
    expect(planRefund(voided, 0, method, 1)).toEqual(refusal);
    expect(planRefund(voided, 20, method, 1)).toEqual(refusal);
    expect(planRefund({ ...voided, method: 'CASH' }, 0, method, 1)).toEqual(refusal);
  });

  it('a payment that stands (voidedCents 0) refunds as before', () => {
    expect(planRefund({ ...mixed(), voidedCents: 0 }, 0, 'EXTERNAL_CHECK', 2000)).toEqual({ amountCents: 2000, returnsMoney: true, takebacks: [] });
  });

  it('does not modify the payment', () => {
    const p = mixed();
    const before = JSON.parse(JSON.stringify(p));
    planRefund(p, 0, 'EXTERNAL_CHECK', null);
    planRefund(p, 0, 'ACCOUNT_CREDIT', null);
    expect(p).toEqual(before);
  });
});

describe('planRefund: ORIGINAL_CARD only for a card payment', () => {
  const NOT_ALLOWED = {
    code: 'REFUND_METHOD_NOT_ALLOWED',
    message: 'Only a card payment can be refunded to the original card. Use EXTERNAL_CASH_OR_CARD or EXTERNAL_CHECK.',
    field: ['input', 'method'],
  };
  const paidWith = (method: PaymentMethod) => payment(10000, [alloc('A1', 3000, 1)], 0, method);

  it.each(['CASH', 'CHECK', 'OTHER'] as PaymentMethod[])('refuses ORIGINAL_CARD for a %s payment, whatever the amount', (method) => {
    expect(planRefund(paidWith(method), 0, 'ORIGINAL_CARD', 100)).toEqual(NOT_ALLOWED);
    expect(planRefund(paidWith(method), 0, 'ORIGINAL_CARD', null)).toEqual(NOT_ALLOWED);
    expect(planRefund(paidWith(method), 0, 'ORIGINAL_CARD', -1)).toEqual(NOT_ALLOWED);
  });

  it.each(['CASH', 'CHECK', 'OTHER'] as PaymentMethod[])('takes every other method for a %s payment', (method) => {
    for (const refundMethod of ['EXTERNAL_CASH_OR_CARD', 'EXTERNAL_CHECK', 'ACCOUNT_CREDIT'] as RefundMethod[]) {
      expect(planRefund(paidWith(method), 0, refundMethod, 100)).toMatchObject({ amountCents: 100 });
    }
  });

  it('takes ORIGINAL_CARD for a card payment', () => {
    expect(planRefund(paidWith('CARD'), 0, 'ORIGINAL_CARD', 100)).toMatchObject({ amountCents: 100, returnsMoney: true });
  });

  it('comes after what canRefund shows (NOTHING_TO_REFUND, TOO_MANY_ITEMS) and before the amount', () => {
    expect(planRefund(payment(5000, [], 5000, 'CASH'), 0, 'ORIGINAL_CARD', 100)).toEqual(NOTHING_TO_REFUND);
    expect(planRefund(paidWith('CASH'), 20, 'ORIGINAL_CARD', 100)).toMatchObject({ code: 'TOO_MANY_ITEMS' });
    expect(planRefund(paidWith('CHECK'), 0, 'ORIGINAL_CARD', 10_001)).toEqual(NOT_ALLOWED);
  });
});

describe('planRefund: takebacks always add up', () => {
  it('money-returning: takebacks = amount − unallocated (at least 0); credit: takebacks = amount', () => {
    const p = mixed(); // 2000 unallocated, 8000 allocated
    for (let amount = 1; amount <= 10000; amount += 137) {
      const plan = planRefund(p, 0, 'ORIGINAL_CARD', amount);
      if ('code' in plan) throw new Error(plan.message);
      expect(plan.takebacks.reduce((s, t) => s + t.cents, 0)).toBe(Math.max(0, amount - 2000));
      if (amount <= 8000) {
        const credit = planRefund(p, 0, 'ACCOUNT_CREDIT', amount);
        if ('code' in credit) throw new Error(credit.message);
        expect(credit.takebacks.reduce((s, t) => s + t.cents, 0)).toBe(amount);
      }
    }
  });
});
